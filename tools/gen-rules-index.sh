#!/usr/bin/env bash
# Writes docs/rules/README.md, the index of lint rules, from `bale lint --list-rules`.
# Usage: tools/gen-rules-index.sh [BALE]   (default build/bale). tests/cli/test_rules_index.sh
# checks that the committed index matches the binary.
set -euo pipefail
bale=${1:-build/bale}
cd "$(dirname "$0")/.."
{
	echo "# Lint rules"
	echo
	echo "Every rule \`bale lint\` knows, by id; \`bale lint --list-rules\` prints the same list."
	echo "DL rules are hadolint's (same codes and meaning), BK rules are BuildKit's build checks"
	echo "(their check names are aliases), BL rules are bale's own. A rule is named in"
	echo "configuration and pragmas by its id, its name or any alias. See [../lint.md](../lint.md)."
	echo
	echo "| id | severity | name | summary |"
	echo "|---|---|---|---|"
	"$bale" lint --list-rules | while read -r id sev name summary; do
		echo "| [$id]($id.md) | $sev | $name | $summary |"
	done
} >docs/rules/README.md
