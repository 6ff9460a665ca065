"""The bare route the page benchmarks compare with: Flask answering "hello"."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
