"""The peer: the same metrics through jupyter_client, the library Jupyter's own tools use.

Reads one JSON command per line on stdin, answers one JSON line on stdout. Timing happens here,
in Python, so the pipe to the Node harness is not part of any measurement.
"""
import json
import os
import signal
import sys
import time

try:
    from jupyter_client.manager import KernelManager
except Exception as error:  # noqa: BLE001 - any import failure means "no peer"
    print(json.dumps({"ready": False, "error": f"{type(error).__name__}: {error}"}), flush=True)
    sys.exit(0)

TIMEOUT = 120
kernels = {}


def start_kernel():
    """Starts a kernel the jupyter_client way (KernelManager + blocking client, wait_for_ready)."""
    manager = KernelManager(kernel_name=os.environ.get("BENCH_KERNEL_NAME", "bench-python"))
    manager.start_kernel()
    client = manager.blocking_client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def execute(client, code):
    """Runs code; returns once execute_reply and the idle status arrived (as the other clients)."""
    started = time.perf_counter()
    msg_id = client.execute(code, allow_stdin=False)
    stdout = []
    first_result = None
    while True:
        message = client.get_iopub_msg(timeout=TIMEOUT)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        msg_type = message["msg_type"]
        if msg_type == "stream" and message["content"]["name"] == "stdout":
            stdout.append(message["content"]["text"])
        elif msg_type == "execute_result" and first_result is None:
            first_result = time.perf_counter()
        elif msg_type == "status" and message["content"]["execution_state"] == "idle":
            break
    while True:
        reply = client.get_shell_msg(timeout=TIMEOUT)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    return started, first_result, "".join(stdout)


def handle(command):
    op = command["op"]
    if op == "start":
        kernels[command["name"]] = start_kernel()
        return {}
    if op == "stop":
        manager, client = kernels.pop(command["name"])
        client.stop_channels()
        manager.shutdown_kernel(now=False)
        return {}
    if op == "execute":
        _, client = kernels[command["name"]]
        samples = []
        stdout_length = 0
        for _ in range(command.get("n", 1)):
            started, _, stdout = execute(client, command["code"])
            samples.append((time.perf_counter() - started) * 1000)
            stdout_length = len(stdout)
        return {"samples": samples, "stdout_length": stdout_length}
    if op == "kernel_info":
        _, client = kernels[command["name"]]
        samples = []
        for _ in range(command.get("n", 1)):
            started = time.perf_counter()
            client.kernel_info(reply=True, timeout=TIMEOUT)
            samples.append((time.perf_counter() - started) * 1000)
        return {"samples": samples}
    if op == "complete":
        _, client = kernels[command["name"]]
        samples = []
        for _ in range(command.get("n", 1)):
            started = time.perf_counter()
            client.complete(command["code"], reply=True, timeout=TIMEOUT)
            samples.append((time.perf_counter() - started) * 1000)
        return {"samples": samples}
    if op == "cold_start":
        started = time.perf_counter()
        manager, client = start_kernel()
        _, first_result, _ = execute(client, "1+1")
        elapsed = (first_result - started) * 1000
        client.stop_channels()
        manager.shutdown_kernel(now=False)
        return {"ms": elapsed}
    if op == "queue":
        _, client = kernels[command["name"]]
        started = time.perf_counter()
        ids = [client.execute("pass") for _ in range(command["n"])]
        waiting = set(ids)
        while waiting:
            reply = client.get_shell_msg(timeout=TIMEOUT)
            waiting.discard(reply["parent_header"].get("msg_id"))
        # Each execution is done when its idle status has arrived too; the last one's is last.
        while True:
            message = client.get_iopub_msg(timeout=TIMEOUT)
            if (message["parent_header"].get("msg_id") == ids[-1] and message["msg_type"] == "status"
                    and message["content"]["execution_state"] == "idle"):
                break
        return {"ms": (time.perf_counter() - started) * 1000}
    raise ValueError(f"unknown op {op}")


def main():
    # Ctrl-C reaches the whole process group; the harness shuts this peer down through stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            answer = {"ok": True, **handle(command)}
        except Exception as error:  # noqa: BLE001 - reported to the harness, which prints it
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)
    for manager, client in list(kernels.values()):
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
