"""Helpers several test files share (pytest puts this folder on sys.path, as for
lesson_runner.py)."""

import http.server
import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

# The venv with Keras 3 and PyTorch that made the fixtures (tests/data/README.md says how to
# make it); the live Keras tests that need it skip when it is absent.
KERAS_VENV_PYTHON = Path("/tmp/kvenv/bin/python")


def raises(exception, call, *words):
    """Run call(), expect `exception`, and check that the message holds every word."""
    with pytest.raises(exception) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from the message: {message}"
    return message


def feed(metric, y, p, batches, weights=None):
    """Reset `metric` and give it (y, p, weights) in the slices `batches`, ((start, stop),
    ...), as a fixture's update_state calls did; returns metric.result()."""
    metric.reset_state()
    for start, stop in batches:
        w = None if weights is None else weights[start:stop]
        metric.update_state(y[start:stop], p[start:stop], sample_weight=w)
    return metric.result()


def fixture_steps(optimizer, ref, steps, flat=False):
    """`steps` updates of a (3, 2) kernel and a (2,) bias in float32 from a fixture's
    gradients (ref: opt_w0, opt_b0, opt_grad_w_i, opt_grad_b_i); flat=True passes them as one
    vector, as a compiled model does. Returns the kernel and the bias."""
    w, b = ref["opt_w0"].copy(), ref["opt_b0"].copy()
    vector = np.concatenate([w.ravel(), b])
    for i in range(steps):
        gw, gb = ref[f"opt_grad_w_{i}"], ref[f"opt_grad_b_{i}"]
        if flat:
            optimizer.apply(vector, np.concatenate([gw.ravel(), gb]))
        else:
            optimizer.apply([w, b], [gw, gb])
    return (vector[:6].reshape(3, 2), vector[6:]) if flat else (w, b)


def run_in_keras_venv(script, *paths):
    """Run `script` (Python source) in the Keras venv with `paths` as its arguments, on
    Keras's torch backend; skips when the venv cannot import Keras, fails on an error.
    Returns the finished process (its stdout and stderr)."""
    env = dict(os.environ, KERAS_BACKEND="torch")
    done = subprocess.run([str(KERAS_VENV_PYTHON), "-c", script, *map(str, paths)],
                          env=env, capture_output=True, text=True, timeout=240)
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"the venv cannot import Keras: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def linear_layer_class():
    """The Keras guide's Linear layer (y = x @ w + b), written the tinynet way, as the error
    for a layer with call() advises: check_input / check_grad_output first, weights in
    self.params made in build (which ends with super().build), compute_output_shape because
    it changes the shape. keep_attribute=True also keeps w in self.w and reads it from there,
    Keras's habit. A function, so that importing this module does not import tinynet."""
    import tinynet
    from tinynet.layers import Layer

    class Linear(Layer):
        def __init__(self, units, keep_attribute=False, **kwargs):
            super().__init__(**kwargs)
            self.units, self.keep_attribute = units, keep_attribute

        def build(self, input_shape):
            init = tinynet.initializers.get("random_normal")
            self.params["w"] = init((input_shape[-1], self.units), self.dtype)
            self.params["b"] = np.zeros(self.units, self.dtype)
            if self.keep_attribute:
                self.w = self.params["w"]
            super().build(input_shape)

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.units)

        def forward(self, x, training=False):
            self.check_input(x)
            self.x = x
            w = self.w if self.keep_attribute else self.params["w"]
            return x @ w + self.params["b"]

        def backward(self, grad_output):
            self.check_grad_output(grad_output, self.x)
            self.grads["w"] = self.x.T @ grad_output
            self.grads["b"] = grad_output.sum(axis=0)
            return grad_output @ self.params["w"].T

    return Linear


# -- a web server on 127.0.0.1, for the downloaders (tests never use the internet) ----------

class RouteServer(http.server.BaseHTTPRequestHandler):
    """Serves server.routes {url path: body} (404 for any other path) and records the paths
    asked for in server.requests."""

    def do_GET(self):
        self.server.requests.append(self.path)
        body = self.server.routes.get(self.path)
        self.send_response(200 if body is not None else 404)
        body = b"no such file" if body is None else body
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve_locally():
    """Start a RouteServer on a free local port; yield it (its address is
    server.server_address), then stop it. For a pytest fixture: `yield from serve_locally()`."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RouteServer)
    httpd.routes, httpd.requests = {}, []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_url():
    """The URL of a local port nothing listens on: a download from it fails at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def load_script(path, name):
    """A fixture script of tests/data as a module (the scripts import Keras only in main())."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
