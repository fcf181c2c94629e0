"""Evaluate arithmetic expressions without eval().

    python -m app.calc "2 * (3 + 4) ** 2"     prints 98
    python -m app.calc --serve [--port 8000]   serves GET /calc?expr=... and GET /healthz

The grammar, lowest precedence first:

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/" | "//" | "%") unary)*
    unary  := ("+" | "-") unary | power
    power  := atom ("**" unary)?
    atom   := NUMBER | NAME | NAME "(" expr ("," expr)* ")" | "(" expr ")"
"""

import argparse
import math
import re
import sys

MAX_EXPRESSION = 1000
MAX_EXPONENT = 10000

CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
FUNCTIONS = {
    "abs": (abs, 1),
    "sqrt": (math.sqrt, 1),
    "sin": (math.sin, 1),
    "cos": (math.cos, 1),
    "tan": (math.tan, 1),
    "log": (math.log, 1),
    "exp": (math.exp, 1),
    "floor": (math.floor, 1),
    "ceil": (math.ceil, 1),
    "round": (round, 2),
    "min": (min, 2),
    "max": (max, 2),
}

TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*|//|[-+*/%(),]))"
)


class CalcError(ValueError):
    """A malformed expression or an impossible operation, with the column where it happened."""

    def __init__(self, message, column=None):
        super().__init__(message if column is None else f"column {column}: {message}")


def tokenize(text):
    if len(text) > MAX_EXPRESSION:
        raise CalcError(f"expression longer than {MAX_EXPRESSION} characters")
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            bad = len(text) - len(text[pos:].lstrip())
            raise CalcError(f"unexpected character {text[bad]!r}", bad + 1)
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "number":
            value = float(value) if any(c in value for c in ".eE") else int(value)
        tokens.append((kind, value, match.start(kind) + 1))
        pos = match.end()
    tokens.append(("end", None, len(text) + 1))
    return tokens


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index]

    def take(self, op=None):
        kind, value, column = self.tokens[self.index]
        if op is not None and (kind != "op" or value != op):
            found = "end of input" if kind == "end" else repr(value)
            raise CalcError(f"expected {op!r}, found {found}", column)
        self.index += 1
        return kind, value, column

    def at(self, *ops):
        kind, value, _ = self.peek()
        return kind == "op" and value in ops

    def parse(self):
        value = self.expr()
        kind, token, column = self.peek()
        if kind != "end":
            raise CalcError(f"unexpected {token!r}", column)
        return value

    def expr(self):
        value = self.term()
        while self.at("+", "-"):
            _, op, _ = self.take()
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.unary()
        while self.at("*", "/", "//", "%"):
            _, op, column = self.take()
            right = self.unary()
            if op != "*" and right == 0:
                raise CalcError("division by zero", column)
            if op == "*":
                value = value * right
            elif op == "/":
                value = value / right
            elif op == "//":
                value = value // right
            else:
                value = value % right
        return value

    def unary(self):
        if self.at("+", "-"):
            _, op, _ = self.take()
            value = self.unary()
            return -value if op == "-" else value
        return self.power()

    def power(self):
        base = self.atom()
        if self.at("**"):
            _, _, column = self.take()
            exponent = self.unary()
            if abs(exponent) > MAX_EXPONENT:
                raise CalcError(f"exponent larger than {MAX_EXPONENT}", column)
            try:
                return base**exponent
            except (OverflowError, ZeroDivisionError) as err:
                raise CalcError(str(err), column) from None
        return base

    def atom(self):
        kind, value, column = self.take()
        if kind == "number":
            return value
        if kind == "op" and value == "(":
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "name":
            if self.at("("):
                return self.call(value, column)
            if value in CONSTANTS:
                return CONSTANTS[value]
            raise CalcError(f"unknown name {value!r}", column)
        found = "end of input" if kind == "end" else repr(value)
        raise CalcError(f"expected a number, found {found}", column)

    def call(self, name, column):
        if name not in FUNCTIONS:
            raise CalcError(f"unknown function {name!r}", column)
        function, max_args = FUNCTIONS[name]
        self.take("(")
        args = [self.expr()]
        while self.at(","):
            self.take()
            args.append(self.expr())
        self.take(")")
        if len(args) > max_args or (max_args == 2 and name in ("min", "max") and len(args) < 2):
            raise CalcError(f"wrong number of arguments to {name}()", column)
        try:
            return function(*args)
        except (ValueError, OverflowError) as err:
            raise CalcError(f"{name}(): {err}", column) from None


def evaluate(text):
    """Returns the value of the arithmetic expression `text`; raises CalcError."""
    return Parser(text).parse()


def format_number(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def create_app():
    from flask import Flask, jsonify, request

    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/calc")
    def calc():
        expression = request.args.get("expr", "")
        try:
            value = evaluate(expression)
        except CalcError as err:
            return jsonify(expr=expression, error=str(err)), 400
        return jsonify(expr=expression, result=format_number(value))

    return app


def __getattr__(name):
    # `gunicorn app.calc:app` finds the WSGI app here; the command line never needs Flask.
    if name == "app":
        return create_app()
    raise AttributeError(name)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Evaluate arithmetic expressions.")
    parser.add_argument("expression", nargs="*", help="expressions to evaluate")
    parser.add_argument("--serve", action="store_true", help="serve the HTTP API")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)

    if args.serve:
        create_app().run(host=args.host, port=args.port)
        return 0
    lines = args.expression or [line for line in sys.stdin.read().splitlines() if line.strip()]
    status = 0
    for line in lines:
        try:
            print(format_number(evaluate(line)))
        except CalcError as err:
            print(f"calc: {err}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
