import signal, traceback, sys, os, threading, time
_orig = signal.signal
_log = open(f"/tmp/exp/sig-{os.getpid()}.log", "w", buffering=1)
def _patched(sig, handler):
    prev = _orig(sig, handler)
    if sig == signal.SIGINT:
        _log.write(f"{time.time():.3f} {threading.current_thread().name} set {handler} (prev {prev})\n")
    return prev
signal.signal = _patched
sys.argv = ["ipykernel_launcher"] + sys.argv[1:]
from ipykernel import kernelbase, kernelapp
_ds = kernelbase.Kernel.dispatch_shell
_n = [0]
async def dispatch_shell(self, msg):
    _n[0] += 1; n = _n[0]
    _log.write(f"{time.time():.3f} dispatch {n} start\n")
    try:
        return await _ds(self, msg)
    finally:
        _log.write(f"{time.time():.3f} dispatch {n} end\n")
kernelbase.Kernel.dispatch_shell = dispatch_shell
_pre = kernelbase.Kernel.pre_handler_hook
def pre(self):
    _log.write(f"{time.time():.3f} pre parent={self.get_parent('shell').get('header',{}).get('msg_type')}\n")
    return _pre(self)
kernelbase.Kernel.pre_handler_hook = pre
kernelapp.launch_new_instance()
