#!/bin/bash
# Regenerates the committed image fixtures of tests/unit/test_image.c with real tools: umoci
# writes the base OCI layout, skopeo converts it (docker-archive, oci-archive, zstd, Docker
# schema 2 media types). The layouts that no tool here writes (legacy `docker save` with
# <id>/layer.tar, Docker 25+ with blobs/sha256, an uncompressed OCI layout, a multi-platform
# index) are assembled from the same tool-made blobs with jq and GNU tar.
# Needs: umoci skopeo jq tar coreutils. Run from anywhere; writes next to this script.
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SOURCE_DATE_EPOCH=1700000000
rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb 2>/dev/null || true

sha() { sha256sum "$1" | cut -d' ' -f1; }
# put FILE into layout DIR as a blob; prints its digest hex
put_blob() { local h; h=$(sha "$2"); cp "$2" "$1/blobs/sha256/$h"; echo "$h"; }

# 1. base image: layer 1 adds files, layer 2 deletes one (whiteout), adds a hardlink, a symlink
umoci init --layout oci
umoci new --image oci:demo
umoci unpack --rootless --image oci:demo b >/dev/null
mkdir -p b/rootfs/etc b/rootfs/app
echo hello >b/rootfs/etc/hello.txt
echo 'not a real key' >b/rootfs/app/key
umoci repack --image oci:demo --history.created_by 'COPY files /' b
umoci config --image oci:demo --config.user 1000 --config.env A=1 --config.env PATH=/bin \
	--config.entrypoint /bin/sh --config.cmd -c --config.cmd 'echo hi' --config.workingdir /app \
	--config.exposedports 8080/tcp --config.volume /data --config.label org.example.a=b \
	--config.stopsignal SIGTERM --os linux --architecture amd64 --author 'bale tests' \
	--history.created_by 'CONFIG user and friends'
rm -rf b
umoci unpack --rootless --image oci:demo b >/dev/null
(cd b/rootfs && ln -s hello.txt etc/link && ln etc/hello.txt etc/hard && rm app/key &&
	printf 'echo v2\n' >app/run.sh && chmod 755 app/run.sh)
umoci repack --image oci:demo --history.created_by 'RUN change' b
umoci gc --layout oci
rm -rf "$out/oci-gzip" && cp -r oci "$out/oci-gzip"

# 2. conversions by skopeo
skopeo copy -q --dest-compress-format zstd oci:oci:demo oci:oci-zstd:demo
rm -rf "$out/oci-zstd" && cp -r oci-zstd "$out/oci-zstd"
skopeo copy -q --format v2s2 oci:oci:demo oci:oci-v2s2:demo
rm -rf "$out/oci-v2s2" && cp -r oci-v2s2 "$out/oci-v2s2"
skopeo copy -q oci:oci:demo oci-archive:"$out/demo.oci.tar":demo
skopeo copy -q oci:oci:demo docker-archive:"$out/demo.docker.tar":example.com/demo:1

# uncompressed layer tars and the config, as skopeo wrote them into the docker archive
mkdir x && tar -xf "$out/demo.docker.tar" -C x
cfg=$(jq -r '.[0].Config' x/manifest.json)
mapfile -t layers < <(jq -r '.[0].Layers[]' x/manifest.json)

# 3. an OCI layout with uncompressed layers (skopeo 1.9 keeps gzip for oci: destinations)
mkdir -p plain/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' >plain/oci-layout
c=$(put_blob plain "x/$cfg")
l0=$(put_blob plain "x/${layers[0]}")
l1=$(put_blob plain "x/${layers[1]}")
jq -cn --arg c "$c" --arg l0 "$l0" --arg l1 "$l1" --argjson cs "$(stat -c%s "x/$cfg")" \
	--argjson s0 "$(stat -c%s "x/${layers[0]}")" --argjson s1 "$(stat -c%s "x/${layers[1]}")" \
	'{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
	  config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:("sha256:"+$c),size:$cs},
	  layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar",digest:("sha256:"+$l0),size:$s0},
	          {mediaType:"application/vnd.oci.image.layer.v1.tar",digest:("sha256:"+$l1),size:$s1}]}' >m.json
m=$(put_blob plain m.json)
jq -cn --arg m "$m" --argjson s "$(stat -c%s m.json)" \
	'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",
	  digest:("sha256:"+$m),size:$s,annotations:{"org.opencontainers.image.ref.name":"demo"}}]}' \
	>plain/index.json
rm -rf "$out/oci-plain" && cp -r plain "$out/oci-plain"

# 4. legacy `docker save`: <id>/layer.tar files, <id>/json, <id>/VERSION, repositories, and two
#    images in one archive (the second repeats layer 0, stored once as a symlink, as docker does)
mkdir -p legacy/id0 legacy/id1 legacy/id2
cp "x/${layers[0]}" legacy/id0/layer.tar
cp "x/${layers[1]}" legacy/id1/layer.tar
ln -s ../id0/layer.tar legacy/id2/layer.tar
for d in id0 id1 id2; do echo 1.0 >legacy/$d/VERSION && echo '{}' >legacy/$d/json; done
cp "x/$cfg" "legacy/$cfg"
d0=$(jq -r '.rootfs.diff_ids[0]' "x/$cfg")
jq -c --arg d0 "$d0" '.rootfs.diff_ids=[$d0,$d0] | .history=[{created_by:"ADD a"},{created_by:"ADD a again"}]' \
	"x/$cfg" >cfg2.json
c2=$(sha cfg2.json)
cp cfg2.json "legacy/$c2.json"
jq -cn --arg c "$cfg" --arg c2 "$c2.json" \
	'[{Config:$c,RepoTags:["demo:latest"],Layers:["id0/layer.tar","id1/layer.tar"]},
	  {Config:$c2,RepoTags:["example.com/other:2"],Layers:["id0/layer.tar","id2/layer.tar"]}]' \
	>legacy/manifest.json
echo '{"demo":{"latest":"id1"}}' >legacy/repositories
(cd legacy && tar --format=ustar --owner=0 --group=0 --mtime=@1700000000 -b1 -cf "$out/legacy.docker.tar" \
	manifest.json repositories "$cfg" "$c2.json" id0 id1 id2)

# 5. Docker 25+ `docker save`: OCI layout inside, manifest.json naming blobs/sha256/<hex>
mkdir -p d25/blobs/sha256
echo '{"imageLayoutVersion":"1.0.0"}' >d25/oci-layout
cp plain/blobs/sha256/* d25/blobs/sha256/
cp plain/index.json d25/index.json
jq -cn --arg c "$c" --arg l0 "$l0" --arg l1 "$l1" \
	'[{Config:("blobs/sha256/"+$c),RepoTags:["demo:25"],Layers:[("blobs/sha256/"+$l0),("blobs/sha256/"+$l1)]}]' \
	>d25/manifest.json
(cd d25 && tar --format=pax --owner=0 --group=0 --mtime=@1700000000 -b1 -cf "$out/docker25.tar" \
	blobs oci-layout index.json manifest.json)

# 6. a multi-platform image: index.json -> image index -> amd64, arm64/v8, arm/v7 manifests and
#    an attestation manifest (platform unknown/unknown, as BuildKit writes), all made by umoci
umoci init --layout multi
for p in amd64: arm64:v8 arm:v7; do
	a=${p%%:*}
	umoci new --image multi:$a
	umoci unpack --rootless --image multi:$a b$a >/dev/null
	echo "$a" >b$a/rootfs/arch
	umoci repack --image multi:$a --history.created_by "arch $a" b$a
	umoci config --image multi:$a --os linux --architecture $a
done
umoci gc --layout multi
entries=()
for p in amd64: arm64:v8 arm:v7; do
	a=${p%%:*} v=${p#*:}
	d=$(jq -r --arg a "$a" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$a)|.digest' multi/index.json)
	s=$(jq -r --arg a "$a" '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]==$a)|.size' multi/index.json)
	entries+=("$(jq -cn --arg d "$d" --argjson s "$s" --arg a "$a" --arg v "$v" \
		'{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,
		  platform:({os:"linux",architecture:$a} + (if $v=="" then {} else {variant:$v} end))}')")
done
amd=$(jq -r '.manifests[]|select(.annotations["org.opencontainers.image.ref.name"]=="amd64")|.digest' multi/index.json)
entries+=("$(jq -cn --arg d "$amd" '{mediaType:"application/vnd.oci.image.manifest.v1+json",
	digest:$d,size:1,platform:{os:"unknown",architecture:"unknown"},
	annotations:{"vnd.docker.reference.type":"attestation-manifest"}}')")
printf '%s\n' "${entries[@]}" | jq -cs '{schemaVersion:2,mediaType:"application/vnd.oci.image.index.v1+json",manifests:.}' >idx.json
i=$(put_blob multi idx.json)
jq -cn --arg i "$i" --argjson s "$(stat -c%s idx.json)" \
	'{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.index.v1+json",digest:("sha256:"+$i),size:$s,
	  annotations:{"org.opencontainers.image.ref.name":"latest"}}]}' >multi/index.json
rm -rf "$out/oci-multi" && cp -r multi "$out/oci-multi"
echo "fixtures written to $out"
