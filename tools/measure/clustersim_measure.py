#!/usr/bin/python3
"""clustersim measurement harness: measure this machine with PyTorch and write the two files that
`clustersim calibrate` and `clustersim validate` read.

  profile  kernel profile: a GEMM grid, attention, memory-bound kernels, collectives
           (schema "clustersim.calibration-profile/1")
  steps    measured training steps of small GPT models, as a JSON array of records in the schema of
           published training runs
  all      both, into one directory

One file, standard library + torch only. Runs on torch 1.13 (CPU) and torch 2.x (CUDA); newer APIs are
guarded. See tools/measure/README.md for the schemas and the time each run takes.
"""

import argparse
import datetime
import inspect
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

SCHEMA = "clustersim.calibration-profile/1"
TOOL = "tools/measure/clustersim_measure.py"
MEMORY_KIND = ("max_memory_allocated (torch.cuda) / CPU allocator trace peak "
               "(torch.profiler profile_memory), allocated bytes")
DTYPE_NAMES = ("fp32", "tf32", "bf16", "fp16")
SECTIONS = ("gemm", "attention", "memory", "framework", "collectives")
ELEM_BYTES = {"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2}

_T0 = time.perf_counter()


def log(msg):
    print("[measure %6.1fs] %s" % (time.perf_counter() - _T0, msg), file=sys.stderr, flush=True)


class UsageError(Exception):
    pass


# --------------------------------------------------------------------------------------------------
# torch import, threads


# Spin-wait limits for the two thread pools of a torch that calls OpenBLAS (pthreads) from OpenMP code
# (Debian's python3-torch): with the defaults, OpenBLAS threads still spinning after a GEMM and OpenMP
# threads spinning after an elementwise kernel take the cores from each other, and on a 2-core machine
# a small training step runs 2x slower than with these (measured: 150 ms -> 65 ms; GEMM and copy rates
# unchanged). Set only when not already in the environment; recorded in device.blas.
SPIN_ENV = (("OPENBLAS_THREAD_TIMEOUT", "4"), ("GOMP_SPINCOUNT", "10000"))
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") + tuple(k for k, _ in SPIN_ENV)


def import_torch(threads):
    """Set the BLAS/OpenMP thread environment (read when the libraries load), then import torch."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if threads is not None:
            os.environ[var] = str(threads)
        else:
            os.environ.setdefault(var, str(os.cpu_count() or 1))
    for var, value in SPIN_ENV:
        os.environ.setdefault(var, value)
    try:
        import torch  # noqa: F401
    except Exception as e:  # ImportError, or a broken install raising something else
        print("clustersim_measure: cannot import torch (%s: %s).\n"
              "  This tool needs PyTorch. On Debian/Ubuntu install the package `python3-torch`\n"
              "  (apt-get install python3-torch) and run the tool with Debian's interpreter\n"
              "  /usr/bin/python3 (a pyenv/venv python3 earlier on PATH does not see it):\n"
              "    /usr/bin/python3 tools/measure/clustersim_measure.py ...\n"
              "  On a GPU machine use any python that has a CUDA build of torch."
              % (type(e).__name__, e), file=sys.stderr)
        sys.exit(2)
    torch.set_num_threads(threads if threads is not None else (os.cpu_count() or 1))
    # Denormal floats (the tails of a softmax, its gradients) run 10-50x slower on x86 CPUs unless
    # flushed to zero; GPUs' tensor cores flush them anyway. Training stacks on CPU set this too.
    torch.set_flush_denormal(True)
    return torch


CACHING_MALLOC_ENV = {
    # glibc malloc as a caching allocator (as PyTorch's CUDA allocator is): freed blocks stay in the heap
    # instead of going back to the kernel, so a training step does not page-fault its activations in
    # again on every allocation. Recorded in the profile; --system-malloc keeps the system's settings.
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
    "MALLOC_TOP_PAD_": str(64 << 20),
}


def ensure_caching_malloc(argv):
    """Re-executes this script once with CACHING_MALLOC_ENV (glibc reads it only at start-up)."""
    if "--system-malloc" in argv or os.environ.get("CLUSTERSIM_MEASURE_MALLOC") == "1":
        return
    if "--help" in argv or "-h" in argv or not argv:
        return
    env = dict(os.environ)
    env.update(CACHING_MALLOC_ENV)
    env["CLUSTERSIM_MEASURE_MALLOC"] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + list(argv), env)


# --------------------------------------------------------------------------------------------------
# device description


def _read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cpu_model_name():
    for line in _read("/proc/cpuinfo").splitlines():
        key = line.split(":", 1)[0].strip().lower()
        if key in ("model name", "cpu model", "hardware") and ":" in line:
            value = line.split(":", 1)[1].strip()
            if value:
                return value
    return platform.processor() or platform.machine() or "unknown CPU"


def ram_bytes():
    m = re.search(r"^MemTotal:\s+(\d+)\s+kB", _read("/proc/meminfo"), re.M)
    if m:
        return int(m.group(1)) * 1024
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def nvidia_driver():
    m = re.search(r"Kernel Module\s+(?:for\s+\S+\s+)?(\d[\w.]*)", _read("/proc/driver/nvidia/version"))
    if m:
        return m.group(1)
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        line = out.stdout.strip().splitlines()
        if out.returncode == 0 and line:
            return line[0].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def blas_description(torch, kind):
    parts = []
    try:
        m = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
        if m:
            parts.append("BLAS_INFO=" + m.group(1))
    except Exception:
        pass
    # The BLAS library actually mapped into this process (after a matmul has run).
    libs = []
    for line in _read("/proc/self/maps").splitlines():
        path = line.split()[-1] if line.split() else ""
        base = os.path.basename(path)
        if re.search(r"(openblas|libblas|mkl_rt|libmkl|blis|libcublas\.)", base) and path not in libs:
            libs.append(path)
    if libs:
        parts.append("loaded: " + ", ".join(libs[:4]))
    for alt in sorted(os.listdir("/etc/alternatives")) if os.path.isdir("/etc/alternatives") else []:
        if alt.startswith("libblas.so.3"):
            parts.append("libblas.so.3 alternative: " + os.path.realpath(os.path.join("/etc/alternatives", alt)))
            break
    if kind == "cuda":
        parts.append("cuBLAS (CUDA %s)" % getattr(torch.version, "cuda", None))
    parts.append("thread env: " + " ".join("%s=%s" % (v, os.environ[v]) for v in THREAD_ENV if v in os.environ))
    return "; ".join(parts) if parts else "unknown"


def device_name(torch, kind):
    if kind == "cuda":
        return torch.cuda.get_device_name(0)
    return cpu_model_name()


def describe_device(torch, kind):
    # Make sure the BLAS library is loaded before reading /proc/self/maps.
    try:
        dev = "cuda" if kind == "cuda" else "cpu"
        torch.mm(torch.ones(8, 8, device=dev), torch.ones(8, 8, device=dev))
    except Exception:
        pass
    d = {"kind": kind, "name": device_name(torch, kind)}
    if kind == "cuda":
        d["count"] = torch.cuda.device_count()
    else:
        d["count"] = os.cpu_count()
    d["threads"] = torch.get_num_threads()
    d["torch"] = str(torch.__version__)
    d["cuda"] = getattr(torch.version, "cuda", None)
    d["driver"] = nvidia_driver() if kind == "cuda" else None
    d["blas"] = blas_description(torch, kind)
    if kind == "cuda":
        d["memory_bytes"] = int(torch.cuda.get_device_properties(0).total_memory)
    else:
        d["memory_bytes"] = ram_bytes()
    d["host"] = platform.platform()
    d["python"] = platform.python_version()
    d["flush_denormal"] = True
    d["malloc"] = ("caching (%s)" % " ".join("%s=%s" % kv for kv in sorted(CACHING_MALLOC_ENV.items()))
                   if os.environ.get("CLUSTERSIM_MEASURE_MALLOC") == "1" else "system")
    return d


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------------
# timing


class Timer:
    """Warm-ups then repetitions, each repetition timed with perf_counter around a device sync.

    budget_s caps the time of the repetitions of one measurement: a slow shape gets fewer repetitions
    (never fewer than min_repeats) and fewer warm-ups (never fewer than one). Calls much shorter than
    target_rep_s are run back to back `inner` times per repetition and the time divided by `inner`.
    """

    def __init__(self, torch, kind, warmup, repeats, target_rep_s):
        self.torch = torch
        self.kind = kind
        self.warmup = warmup
        self.repeats = repeats
        self.min_repeats = min(3, repeats)
        self.target_rep_s = target_rep_s
        self.max_inner = 1000

    def sync(self):
        if self.kind == "cuda":
            self.torch.cuda.synchronize()

    def time_calls(self, fn, n):
        self.sync()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        self.sync()
        return time.perf_counter() - t0

    def warm(self, once, budget_s):
        """Warm-up calls; returns (time estimate of one call, warm-ups done). The first call (lazy
        initialisation, algorithm selection, page faults) is not used for the estimate when a second
        warm-up is asked for."""
        est = once()
        nwarm = 1
        if self.warmup >= 2 and est <= budget_s:
            est = once()
            nwarm = 2
        while nwarm < self.warmup and (nwarm + 1) * est <= 0.5 * budget_s:
            est = min(est, once())
            nwarm += 1
        return est, nwarm

    def measure(self, fn, budget_s, allow_inner=True):
        est, nwarm = self.warm(lambda: self.time_calls(fn, 1), budget_s)
        inner = 1
        if allow_inner and est < self.target_rep_s:
            inner = min(self.max_inner, max(1, int(math.ceil(self.target_rep_s / max(est, 1e-7)))))
        reps = self.repeats
        per_rep = max(est * inner, 1e-9)
        if per_rep * reps > budget_s:
            reps = max(self.min_repeats, int(budget_s // per_rep))
        samples = [self.time_calls(fn, inner) / inner for _ in range(reps)]
        return samples, {"warmup": nwarm, "inner": inner}

    def measure_after(self, setup, fn, budget_s):
        """Like measure, but every timed call of fn is preceded by an untimed setup() whose result fn
        receives (e.g. a forward pass whose graph the timed backward consumes); one call per repetition."""
        def timed():
            arg = setup()
            self.sync()
            t0 = time.perf_counter()
            fn(arg)
            self.sync()
            return time.perf_counter() - t0
        est, nwarm = self.warm(timed, budget_s)
        reps = self.repeats
        if max(est, 1e-9) * reps > budget_s:
            reps = max(self.min_repeats, int(budget_s // max(est, 1e-9)))
        return [timed() for _ in range(reps)], {"warmup": nwarm, "inner": 1}


def summarize(samples):
    return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
            "repeats": len(samples)}


# --------------------------------------------------------------------------------------------------
# context


class Ctx:
    def __init__(self, torch, args):
        self.torch = torch
        self.args = args
        self.kind = args.device
        self.quick = args.quick
        self.dev = torch.device("cuda:0" if self.kind == "cuda" else "cpu")
        self.warmup = 1 if args.quick else 3
        self.repeats = 3 if args.quick else 7
        self.timer = Timer(torch, self.kind, self.warmup, self.repeats,
                           target_rep_s=1e-3 if self.kind == "cuda" else 2e-4)
        self.created = utc_now()
        self.skipped = []
        self._device = None
        self.load = load_average()
        if self.kind == "cpu" and self.load and self.load[0] > 0.75:
            log("warning: load average %.2f before measuring: other processes are using the CPUs, so CPU "
                "timings will be slow and noisy (OpenMP threads wait for descheduled peers); measure on an "
                "idle machine" % self.load[0])

    @property
    def device_info(self):
        if self._device is None:
            self._device = describe_device(self.torch, self.kind)
        return self._device

    def skip(self, what, reason):
        log("skipped %s: %s" % (what, reason))
        self.skipped.append({"what": what, "reason": reason})

    def budget(self, cpu_default, cpu_quick, cuda_default, cuda_quick):
        if self.kind == "cuda":
            return cuda_quick if self.quick else cuda_default
        return cpu_quick if self.quick else cpu_default

    def torch_dtype(self, name):
        t = self.torch
        return {"fp32": t.float32, "tf32": t.float32, "bf16": t.bfloat16, "fp16": t.float16}[name]

    def set_tf32(self, on):
        t = self.torch
        if self.kind != "cuda":
            return
        try:
            t.backends.cuda.matmul.allow_tf32 = bool(on)
            t.backends.cudnn.allow_tf32 = bool(on)
        except AttributeError:
            pass


def free_cuda(ctx):
    if ctx.kind == "cuda":
        ctx.torch.cuda.empty_cache()


def is_oom(e):
    return "out of memory" in str(e).lower() or type(e).__name__ == "OutOfMemoryError"


# --------------------------------------------------------------------------------------------------
# GEMM


def gemm_sizes(ctx):
    if ctx.kind == "cuda":
        return [256, 1024, 4096, 16384] if ctx.quick else [256, 512, 1024, 2048, 4096, 8192, 16384]
    return [64, 256, 1024] if ctx.quick else [64, 128, 256, 512, 1024, 2048]


def bench_gemm(ctx, dtypes):
    torch = ctx.torch
    sizes = gemm_sizes(ctx)
    out = []
    budget = ctx.budget(0.4, 0.05, 0.15, 0.03)
    for dname in dtypes:
        if dname == "tf32" and ctx.kind != "cuda":
            ctx.skip("gemm tf32", "TF32 exists only on NVIDIA GPUs (measured as fp32 inputs with "
                     "torch.backends.cuda.matmul.allow_tf32 = True)")
            continue
        dt = ctx.torch_dtype(dname)
        ctx.set_tf32(dname == "tf32")
        try:
            probe = torch.ones(8, 8, device=ctx.dev, dtype=dt)
            torch.mm(probe, probe)
        except Exception as e:
            ctx.skip("gemm " + dname, "torch.mm does not run in %s on %s: %s" % (dname, ctx.kind, str(e)[:200]))
            continue
        big = max(sizes) ** 2
        torch.manual_seed(0)
        try:
            bufa = torch.randn(big, device=ctx.dev).to(dt)
            bufb = torch.randn(big, device=ctx.dev).to(dt)
        except Exception as e:
            ctx.skip("gemm " + dname, "cannot allocate the operand buffers: %s" % str(e)[:200])
            continue
        t_start = time.perf_counter()
        for m in sizes:
            for n in sizes:
                for k in sizes:
                    a = bufa[: m * k].view(m, k)
                    b = bufb[: k * n].view(k, n)
                    samples, _info = ctx.timer.measure(lambda: torch.mm(a, b), budget)
                    rec = {"dtype": dname, "m": m, "n": n, "k": k, "batch": 1, "flops": 2 * m * n * k}
                    rec.update(summarize(samples))
                    out.append(rec)
            last = out[-1]
            log("gemm %s m=%d done (%d points; %dx%dx%d: %.1f GFLOP/s)" % (
                dname, m, len(out), m, sizes[-1], sizes[-1], last["flops"] / last["median_s"] / 1e9))
        log("gemm %s: %d points in %.1f s" % (dname, len(sizes) ** 3, time.perf_counter() - t_start))
        del bufa, bufb
        free_cuda(ctx)
    ctx.set_tf32(False)
    return out


def interleaved_shapes(ctx):
    """(batch, m, n, k): GEMMs of the step models' layers, and the batched attention GEMMs."""
    if ctx.kind == "cuda":
        return [(1, 8192, 4608, 1536), (1, 8192, 1536, 1536), (1, 8192, 6144, 1536), (1, 8192, 1536, 6144),
                (1, 1536, 4608, 8192), (32, 2048, 2048, 128), (32, 2048, 128, 2048)]
    shapes = [(1, 1024, 768, 256), (1, 256, 768, 1024), (1, 1024, 256, 1024), (1, 1024, 1024, 256),
              (1, 2048, 1536, 512), (8, 512, 512, 64), (8, 512, 64, 512)]
    return shapes[:3] if ctx.quick else shapes


def bench_gemm_interleaved(ctx, dtypes):
    """GEMMs as a training step runs them: each one right after a memory-bound kernel (GeLU over a
    tensor of activation size). The GEMM's in-step time is (pair - elementwise alone). On CPUs the
    OpenMP pool of the elementwise kernels and the BLAS threads hand the cores back and forth; on GPUs
    the neighbour evicts the GEMM's operands from L2. `clustersim calibrate` turns the ratio of the
    isolated to the in-step time into the device's gemm_sustained."""
    torch = ctx.torch
    F = torch.nn.functional
    out = []
    budget = ctx.budget(0.5, 0.1, 0.2, 0.05)
    elements = (1 << 26) if ctx.kind == "cuda" else (1 << 20)
    for dname in dtypes:
        if dname == "tf32" and ctx.kind != "cuda":
            continue
        dt = ctx.torch_dtype(dname)
        ctx.set_tf32(dname == "tf32")
        try:
            x = torch.randn(elements, device=ctx.dev).to(dt)
        except Exception as e:
            ctx.skip("gemm_interleaved " + dname, "cannot allocate: %s" % str(e)[:200])
            continue
        for (batch, m, n, k) in interleaved_shapes(ctx):
            try:
                if batch == 1:
                    a = torch.randn(m, k, device=ctx.dev).to(dt)
                    b = torch.randn(k, n, device=ctx.dev).to(dt)
                    gemm = lambda: torch.mm(a, b)  # noqa: E731
                else:
                    a = torch.randn(batch, m, k, device=ctx.dev).to(dt)
                    b = torch.randn(batch, k, n, device=ctx.dev).to(dt)
                    gemm = lambda: torch.bmm(a, b)  # noqa: E731
                ew = lambda: F.gelu(x)  # noqa: E731

                def pair():
                    ew()
                    gemm()
                g, _ = ctx.timer.measure(gemm, budget)
                e, _ = ctx.timer.measure(ew, budget)
                pr, _ = ctx.timer.measure(pair, budget)
            except Exception as exc:
                if is_oom(exc):
                    free_cuda(ctx)
                ctx.skip("gemm_interleaved %s %dx%dx%dx%d" % (dname, batch, m, n, k), str(exc)[:200])
                continue
            gm, em, pm = statistics.median(g), statistics.median(e), statistics.median(pr)
            rec = {"dtype": dname, "m": m, "n": n, "k": k, "batch": batch, "flops": 2 * m * n * k * batch,
                   "elementwise": "gelu", "elements": elements,
                   "gemm_s": gm, "elementwise_s": em, "pair_s": pm, "in_step_s": max(pm - em, 1e-12),
                   "repeats": len(pr)}
            out.append(rec)
            log("gemm interleaved %s %dx%dx%dx%d: alone %.3f ms, after gelu %.3f ms (%.2f)" % (
                dname, batch, m, n, k, gm * 1e3, rec["in_step_s"] * 1e3, gm / rec["in_step_s"]))
            del a, b
        del x
        free_cuda(ctx)
    ctx.set_tf32(False)
    return out


# --------------------------------------------------------------------------------------------------
# attention (the same code as the step model)


def materialized_attention(torch, q, k, v, mask):
    """q, k, v: (b, a, s, d); mask: bool/uint8 (s, s), nonzero where attending is allowed."""
    d = q.size(-1)
    scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
    scores = scores.masked_fill(mask == 0, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    return probs @ v


def has_sdpa(torch):
    return hasattr(torch.nn.functional, "scaled_dot_product_attention")


def bench_attention(ctx, dtypes):
    torch = ctx.torch
    F = torch.nn.functional
    out = []
    if ctx.kind == "cuda":
        b, a, d = 2, 16, 128
        seqs = [1024, 4096] if ctx.quick else [512, 1024, 2048, 4096, 8192]
        impls = ["materialized"] + (["sdpa"] if has_sdpa(torch) else [])
        if not has_sdpa(torch):
            ctx.skip("attention sdpa", "torch %s has no torch.nn.functional.scaled_dot_product_attention"
                     % torch.__version__)
    else:
        b, a, d = 2, 8, 64
        seqs = [128, 256] if ctx.quick else [128, 256, 512, 1024]
        impls = ["materialized"]
    budget = ctx.budget(0.8, 0.1, 0.3, 0.05)
    h = a * d
    for dname in dtypes:
        if dname == "tf32" and ctx.kind != "cuda":
            continue  # already reported by the GEMM section
        dt = ctx.torch_dtype(dname)
        ctx.set_tf32(dname == "tf32")
        for impl in impls:
            for s in seqs:
                what = "attention %s %s s=%d" % (impl, dname, s)
                fs = bs = None
                try:
                    qkv = torch.randn(b, s, 3 * h, device=ctx.dev).to(dt).requires_grad_(True)
                    mask = torch.tril(torch.ones(s, s, dtype=torch.bool, device=ctx.dev))
                    grad = torch.randn(b, a, s, d, device=ctx.dev).to(dt)

                    def fwd():
                        q, k, v = qkv.split(h, dim=2)
                        q = q.view(b, s, a, d).transpose(1, 2)
                        k = k.view(b, s, a, d).transpose(1, 2)
                        v = v.view(b, s, a, d).transpose(1, 2)
                        if impl == "sdpa":
                            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
                        return materialized_attention(torch, q, k, v, mask)

                    def bwd(y):
                        y.backward(grad)
                        qkv.grad = None

                    fs, _ = ctx.timer.measure(fwd, budget)
                    bs, _ = ctx.timer.measure_after(fwd, bwd, budget)
                except Exception as e:  # out of memory, or a dtype the device cannot run
                    ctx.skip(what, "%s: %s" % (type(e).__name__, str(e).strip()[:200]))
                qkv = mask = grad = None
                free_cuda(ctx)
                if bs is None:
                    continue
                base = 4 * b * a * s * s * d
                if impl == "sdpa":
                    base //= 2
                common = {"impl": impl, "dtype": dname, "batch": b, "heads": a, "seq": s, "head_dim": d,
                          "causal": True}
                rf = dict(common, **{"pass": "forward", "flops": base})
                rf.update(summarize(fs))
                rb = dict(common, **{"pass": "backward", "flops": 2 * base})
                rb.update(summarize(bs))
                out += [rf, rb]
                log("%s: forward %.2f ms, backward %.2f ms" % (what, rf["median_s"] * 1e3, rb["median_s"] * 1e3))
    ctx.set_tf32(False)
    return out


# --------------------------------------------------------------------------------------------------
# memory-bound kernels


def eager_rmsnorm(torch, x, weight, eps=1e-6):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).type_as(x) * weight


def bench_memory(ctx):
    torch = ctx.torch
    F = torch.nn.functional
    dname = "bf16" if ctx.kind == "cuda" else "fp32"
    dt = ctx.torch_dtype(dname)
    e = ELEM_BYTES[dname]
    top = 28 if ctx.kind == "cuda" else 24
    if ctx.quick:
        top = 22 if ctx.kind == "cuda" else 20
    sizes = [2 ** p for p in range(12, top + 1, 2)]
    budget = ctx.budget(0.3, 0.05, 0.1, 0.02)
    row = 1024
    out = []
    def rand(*shape):
        return torch.randn(*shape, device=ctx.dev).to(dt)

    def elementwise(n):
        src, dst = rand(n), torch.empty(n, device=ctx.dev, dtype=dt)
        x, y = rand(n), rand(n)
        x2 = x.view(n // row, row)
        w, bias = rand(row), rand(row)
        vocab_row = min(n, 8192)  # the loss's log_softmax runs over vocabulary-sized rows
        xv = x.view(n // vocab_row, vocab_row)
        kernels = [("copy", 2 * n * e, lambda: dst.copy_(src)),
                   ("add", 3 * n * e, lambda: x + y),
                   ("layernorm", 2 * n * e, lambda: F.layer_norm(x2, (row,), w, bias)),
                   # eager RMSNorm as Llama's reference code and torchtitan run it, one unit; bytes by the
                   # cost model's convention for that chain: 9 x a fused norm's 2 N e
                   ("rmsnorm", 18 * n * e, lambda: eager_rmsnorm(torch, x2, w)),
                   ("softmax", 2 * n * e, lambda: torch.softmax(x2, dim=-1)),
                   ("log_softmax", 2 * n * e, lambda: F.log_softmax(xv, dim=-1)),
                   ("gelu", 2 * n * e, lambda: F.gelu(x)),
                   ("swiglu", 3 * n * e, lambda: F.silu(x) * y)]
        recs = []
        for name, nbytes, fn in kernels:
            samples, _ = ctx.timer.measure(fn, budget)
            rec = {"kernel": name, "dtype": dname, "elements": n, "bytes": nbytes}
            rec.update(summarize(samples))
            recs.append(rec)
        return recs

    for n in sizes:
        out += elementwise(n)
        free_cuda(ctx)
        # Adam as a step runs it: the parameters of a 4-layer GPT block stack of about n elements in
        # all (12 tensors per layer: two norms, fused QKV, output, MLP up and down, with biases), each
        # with a gradient, and caches flushed before every timed optimizer.step() (in a training step
        # the optimizer states are touched once, cold).
        try:
            h = max(8, int(round(math.sqrt(n / (4 * 12.0)))))
            shapes = []
            for _ in range(4):
                shapes += [(h,), (h,), (3 * h, h), (3 * h,), (h, h), (h,), (h,), (h,), (4 * h, h), (4 * h,), (h, 4 * h), (h,)]
            params = []
            for shape in shapes:
                prm = torch.nn.Parameter(torch.randn(*shape, device=ctx.dev))
                prm.grad = torch.randn(*shape, device=ctx.dev)
                params.append(prm)
            total = sum(prm.numel() for prm in params)
            opt = torch.optim.Adam(params, lr=1e-4)
            flush = torch.empty(64 << 20, device=ctx.dev)  # 256 MiB: more than the caches hold
            samples, _ = ctx.timer.measure_after(lambda: flush.fill_(1.0), lambda _arg: opt.step(), budget)
            rec = {"kernel": "adam", "dtype": "fp32", "elements": total, "bytes": 28 * total,
                   "tensors": len(params), "cold": True}
            rec.update(summarize(samples))
            out.append(rec)
            del flush, params
        except Exception as ex:
            if not is_oom(ex):
                raise
            ctx.skip("memory_bound adam n=%d" % n, str(ex)[:200])
        p = opt = None
        free_cuda(ctx)
        copy = [r for r in out if r["kernel"] == "copy" and r["elements"] == n][0]
        log("memory-bound n=2^%d done (copy %.1f GB/s)" % (int(math.log2(n)), copy["bytes"] / copy["median_s"] / 1e9))
    return out


# --------------------------------------------------------------------------------------------------
# collectives (torch.distributed, one process per rank)


def _coll_worker(rank, world, backend, init_file, sizes, warmup, repeats, budget_s, out_path):
    """One rank. Rank 0 writes {"records": [...], "skipped": [...]} to out_path."""
    import datetime as _dt
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    if backend == "gloo" and "GLOO_SOCKET_IFNAME" not in os.environ and os.path.isdir("/sys/class/net/lo"):
        os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    if backend == "nccl":
        torch.cuda.set_device(rank)
        dev = torch.device("cuda", rank)
    else:
        dev = torch.device("cpu")
    dist.init_process_group(backend, init_method="file://" + init_file, rank=rank, world_size=world,
                            timeout=_dt.timedelta(seconds=120))

    def sync():
        if backend == "nccl":
            torch.cuda.synchronize(dev)

    def allmax(values):
        t = torch.tensor(values, dtype=torch.float64, device=dev)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t.tolist()

    dtype, e = torch.float32, 4
    records, skipped = [], []
    warm = torch.ones(1024, device=dev)
    dist.all_reduce(warm)
    sync()

    def make(op, nbytes):
        """Returns (fn, bytes in the nccl-tests convention) for one buffer size."""
        elems = max(world, nbytes // e)
        elems -= elems % world
        if op == "all-reduce":
            buf = torch.ones(elems, dtype=dtype, device=dev)
            return (lambda: dist.all_reduce(buf)), elems * e
        if op == "broadcast":
            buf = torch.ones(elems, dtype=dtype, device=dev)
            return (lambda: dist.broadcast(buf, src=0)), elems * e
        if op == "all-gather":
            inp = torch.ones(elems // world, dtype=dtype, device=dev)
            outp = torch.empty(elems, dtype=dtype, device=dev)
            if use_into["all-gather"]:
                return (lambda: dist.all_gather_into_tensor(outp, inp)), elems * e
            outs = list(outp.chunk(world))
            return (lambda: dist.all_gather(outs, inp)), elems * e
        if op == "reduce-scatter":
            inp = torch.ones(elems, dtype=dtype, device=dev)
            outp = torch.empty(elems // world, dtype=dtype, device=dev)
            if use_into["reduce-scatter"]:
                return (lambda: dist.reduce_scatter_tensor(outp, inp)), elems * e
            ins = list(inp.chunk(world))
            return (lambda: dist.reduce_scatter(outp, ins)), elems * e
        raise ValueError(op)

    # Which forms work: probe each op once with a small buffer (every rank takes the same path).
    use_into = {"all-gather": hasattr(dist, "all_gather_into_tensor"),
                "reduce-scatter": hasattr(dist, "reduce_scatter_tensor")}
    ops = []
    for op in ("all-reduce", "all-gather", "reduce-scatter", "broadcast"):
        ok, reason = False, ""
        for attempt in range(2):
            try:
                fn, _ = make(op, 4096)
                fn()
                sync()
                ok = True
                break
            except Exception as ex:  # e.g. gloo: no reduce_scatter, no _allgather_base
                reason = "%s: %s" % (type(ex).__name__, str(ex).strip().splitlines()[0][:200] if str(ex).strip() else "")
                if op in use_into and use_into[op]:
                    use_into[op] = False  # retry with the list form
                    continue
                break
        dist.barrier()
        if ok:
            ops.append(op)
        else:
            skipped.append({"what": "collective %s (%s, %d ranks)" % (op, backend, world),
                            "reason": "torch.distributed %s backend (torch %s) does not run it: %s"
                            % (backend, torch.__version__, reason)})

    bus = {"all-reduce": 2.0 * (world - 1) / world, "all-gather": (world - 1) / world,
           "reduce-scatter": (world - 1) / world, "broadcast": 1.0}
    for op in ops:
        for nbytes in sizes:
            fn, nb = make(op, nbytes)
            first = None
            for i in range(max(1, warmup)):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                dt = time.perf_counter() - t0
                first = dt if first is None else min(first, dt)
            est = allmax([first])[0]
            reps = repeats
            if est * reps > budget_s:
                reps = max(min(3, repeats), int(budget_s // max(est, 1e-9)))
            dist.barrier()
            samples = []
            for _ in range(reps):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                samples.append(time.perf_counter() - t0)
            samples = allmax(samples)  # a collective takes as long as its slowest rank
            med = statistics.median(samples)
            algbw = nb / med
            records.append({"op": op, "backend": backend, "ranks": world, "bytes": nb, "dtype": "fp32",
                            "median_s": med, "min_s": min(samples), "max_s": max(samples),
                            "algbw": algbw, "busbw": algbw * bus[op], "repeats": len(samples)})
            fn = None
            if rank == 0:
                print("[measure rank0] %s %s x%d %d B: %.3f ms, busbw %.2f GB/s" % (
                    backend, op, world, nb, med * 1e3, algbw * bus[op] / 1e9), file=sys.stderr, flush=True)
    dist.barrier()
    if rank == 0:
        with open(out_path + ".tmp", "w") as f:
            json.dump({"records": records, "skipped": skipped}, f)
        os.replace(out_path + ".tmp", out_path)
    dist.destroy_process_group()


def run_collectives(ctx, backend, world, sizes, budget_s, timeout_s):
    import torch.multiprocessing as tmp
    what = "collectives (%s, %d ranks)" % (backend, world)
    with tempfile.TemporaryDirectory(prefix="clustersim-measure-") as tdir:
        init_file = os.path.join(tdir, "rendezvous")
        out_path = os.path.join(tdir, "result.json")
        pctx = None
        try:
            pctx = tmp.spawn(_coll_worker, args=(world, backend, init_file, sizes, ctx.warmup, ctx.repeats,
                                                 budget_s, out_path), nprocs=world, join=False)
            deadline = time.monotonic() + timeout_s
            while not pctx.join(timeout=2):
                if time.monotonic() > deadline:
                    raise TimeoutError("ranks did not finish within %d s" % timeout_s)
        except Exception as e:
            msg = str(e).strip().splitlines()
            ctx.skip(what, "spawning or running the ranks failed: %s%s" % (
                type(e).__name__, (": " + msg[-1][:300]) if msg else ""))
            return []
        finally:
            if pctx is not None:
                for p in pctx.processes:
                    if p.is_alive():
                        p.terminate()
                for p in pctx.processes:
                    p.join(10)
                    if p.is_alive():
                        p.kill()
                        p.join(5)
        try:
            with open(out_path) as f:
                res = json.load(f)
        except (OSError, ValueError) as e:
            ctx.skip(what, "rank 0 wrote no result: %s" % e)
            return []
    for s in res.get("skipped", []):
        ctx.skip(s["what"], s["reason"])
    return res.get("records", [])


def bench_collectives(ctx):
    torch = ctx.torch
    import torch.distributed as dist
    if not dist.is_available():
        ctx.skip("collectives", "torch.distributed is not available in this torch build")
        return []
    out = []
    if ctx.kind == "cuda":
        ngpu = torch.cuda.device_count()
        if ngpu < 2:
            ctx.skip("collectives (nccl)", "only %d visible GPU; NCCL collectives need at least 2" % ngpu)
            return []
        if not dist.is_nccl_available():
            ctx.skip("collectives (nccl)", "this torch build has no NCCL")
            return []
        top = 24 if ctx.quick else 30
        sizes = [2 ** p for p in range(12, top + 1, 2)]
        worlds = [ngpu] + ([2] if ngpu > 2 else [])
        for w in worlds:
            log("collectives: nccl with %d ranks, %d sizes" % (w, len(sizes)))
            out += run_collectives(ctx, "nccl", w, sizes, budget_s=0.1 if ctx.quick else 0.3,
                                   timeout_s=120 if ctx.quick else 180)
    else:
        if not dist.is_gloo_available():
            ctx.skip("collectives (gloo)", "this torch build has no gloo backend")
            return []
        top = 20 if ctx.quick else 24
        sizes = [2 ** p for p in range(12, top + 1, 2)]
        log("collectives: gloo with 2 ranks (1 thread each), %d sizes" % len(sizes))
        out += run_collectives(ctx, "gloo", 2, sizes, budget_s=0.1 if ctx.quick else 0.5,
                               timeout_s=90 if ctx.quick else 240)
    return out


# --------------------------------------------------------------------------------------------------
# profile


def build_profile(ctx, dtypes, sections):
    log("profile on %s (%s), %d threads%s" % (ctx.kind, ctx.device_info["name"], ctx.device_info["threads"],
                                              ", quick" if ctx.quick else ""))
    prof = {"schema": SCHEMA, "created": ctx.created, "tool": TOOL, "device": ctx.device_info,
            "settings": {"warmup": ctx.warmup, "repeats": ctx.repeats, "quick": bool(ctx.quick),
                         "load_average": ctx.load},
            "gemm": [], "gemm_interleaved": [], "attention": [], "memory_bound": [], "framework_steps": [],
            "collectives": [],
            "skipped": ctx.skipped}
    if "gemm" in sections:
        prof["gemm"] = bench_gemm(ctx, dtypes)
        prof["gemm_interleaved"] = bench_gemm_interleaved(ctx, dtypes)
    if "attention" in sections:
        prof["attention"] = bench_attention(ctx, dtypes)
    if "memory" in sections:
        prof["memory_bound"] = bench_memory(ctx)
    if "framework" in sections:
        prof["framework_steps"] = build_steps(ctx, framework_configs(ctx.quick))
    if "collectives" in sections:
        prof["collectives"] = bench_collectives(ctx)
    elif ctx.args.no_collectives:
        ctx.skip("collectives", "--no-collectives given")
    for name in SECTIONS:
        if name not in sections and not (name == "collectives" and ctx.args.no_collectives):
            ctx.skip(name, "not requested (--only)")
    return prof


# --------------------------------------------------------------------------------------------------
# training steps of a small GPT


def make_gpt(torch, vocab, hidden, layers, heads, seq, impl, recompute):
    nn = torch.nn
    F = torch.nn.functional
    import torch.utils.checkpoint as tcheck
    try:
        ckpt_kw = {"use_reentrant": False} if "use_reentrant" in inspect.signature(tcheck.checkpoint).parameters else {}
    except (TypeError, ValueError):
        ckpt_kw = {}

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.n_head = heads
            self.head_dim = hidden // heads
            self.qkv = nn.Linear(hidden, 3 * hidden)
            self.proj = nn.Linear(hidden, hidden)
            self.register_buffer("causal_mask", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

        def forward(self, x):
            b, s, h = x.shape
            a, d = self.n_head, self.head_dim
            q, k, v = self.qkv(x).split(h, dim=2)
            q = q.view(b, s, a, d).transpose(1, 2)
            k = k.view(b, s, a, d).transpose(1, 2)
            v = v.view(b, s, a, d).transpose(1, 2)
            if impl == "sdpa":
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                y = materialized_attention(torch, q, k, v, self.causal_mask[:s, :s])
            y = y.transpose(1, 2).reshape(b, s, h)
            return self.proj(y)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(hidden, 4 * hidden)
            self.out = nn.Linear(4 * hidden, hidden)

        def forward(self, x):
            return self.out(F.gelu(self.fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(hidden)
            self.attn = CausalSelfAttention()
            self.ln2 = nn.LayerNorm(hidden)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            x = x + self.mlp(self.ln2(x))
            return x

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(vocab, hidden)
            self.wpe = nn.Embedding(seq, hidden)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(hidden)

        def forward(self, idx, targets):
            b, s = idx.shape
            pos = torch.arange(s, device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for blk in self.blocks:
                if recompute == "full":
                    x = tcheck.checkpoint(blk, x, **ckpt_kw)
                else:
                    x = blk(x)
            x = self.ln_f(x)
            logits = F.linear(x, self.wte.weight)
            return F.cross_entropy(logits.view(-1, vocab).float(), targets.view(-1))

    model = GPT()
    # GPT-2's initialisation (Radford et al. 2019; nanoGPT): weights N(0, 0.02), biases zero, norms one.
    # PyTorch's defaults (N(0, 1) embeddings) make the tied LM head's logits so large that the softmax
    # underflows into denormals.
    for mod in model.modules():
        if isinstance(mod, (nn.Linear, nn.Embedding)):
            nn.init.normal_(mod.weight, mean=0.0, std=0.02)
            if getattr(mod, "bias", None) is not None:
                nn.init.zeros_(mod.bias)
    return model


def storage_key(t):
    if hasattr(t, "untyped_storage"):
        st = t.untyped_storage()
    else:
        st = t.storage()
    return st.data_ptr(), st.nbytes()


def unique_bytes(tensors):
    seen = {}
    for t in tensors:
        if t is None or not hasattr(t, "data_ptr"):
            continue
        ptr, nb = storage_key(t)
        if ptr not in seen or seen[ptr] < nb:
            seen[ptr] = nb
    return sum(seen.values())


def optimizer_state_tensors(torch, opt):
    out = []
    for st in opt.state.values():
        for v in st.values():
            if torch.is_tensor(v):
                out.append(v)
    return out


def traced_cpu_peak(torch, prof):
    """Max prefix sum of the allocations/frees traced during the profiled step, and the method used."""
    events = []
    kr = getattr(getattr(prof, "profiler", None), "kineto_results", None)
    # 1. the event tree (ns timestamps; torch >= 1.13)
    try:
        if kr is not None and hasattr(kr, "experimental_event_tree"):
            stack = list(kr.experimental_event_tree())
            while stack:
                n = stack.pop()
                if "Allocation" in str(getattr(n, "tag", "")):
                    ef = n.extra_fields
                    dev = str(getattr(ef, "device", "cpu")).lower()
                    if "cuda" not in dev:
                        events.append((n.start_time_ns, int(ef.alloc_size)))
                stack.extend(n.children)
            if events:
                method = "profiler event tree"
    except Exception:
        events = []
    # 2. the raw Kineto events named [memory] (us timestamps)
    if not events and kr is not None:
        try:
            for i, ev in enumerate(kr.events()):
                if ev.name() == "[memory]" and "CUDA" not in str(ev.device_type()):
                    events.append((ev.start_us() * 1000, int(ev.nbytes())))
            if events:
                method = "profiler [memory] Kineto events"
        except Exception:
            events = []
    # 3. the FunctionEvents named [memory]
    if not events:
        for ev in prof.events():
            if ev.name == "[memory]":
                events.append((ev.time_range.start * 1000, int(ev.cpu_memory_usage)))
        method = "profiler [memory] FunctionEvents"
    if not events:
        return None, "no allocation events traced"
    events.sort(key=lambda x: x[0])  # stable: ties keep the trace order
    run = peak = 0
    for _, nb in events:
        run += nb
        peak = max(peak, run)
    return peak, "%s (%d events)" % (method, len(events))


def step_configs(kind, quick):
    # (hidden, layers, seq, micro-batch, vocab, recompute, impl)
    if kind == "cuda":
        if quick:
            return [(1024, 2, 1024, 4, 32768, "none", "materialized"),
                    (1024, 2, 1024, 4, 32768, "full", "sdpa"),
                    (1024, 2, 2048, 2, 32768, "none", "sdpa")]
        return [(1024, 8, 1024, 8, 32768, "none", "materialized"),
                (1024, 8, 1024, 8, 32768, "none", "sdpa"),
                (1024, 12, 2048, 4, 32768, "full", "materialized"),
                (1024, 12, 2048, 4, 32768, "none", "sdpa"),
                (1536, 8, 1024, 8, 32768, "none", "materialized"),
                (1536, 8, 2048, 4, 32768, "full", "sdpa"),
                (2048, 4, 1024, 8, 32768, "none", "materialized"),
                (2048, 6, 2048, 4, 50304, "none", "sdpa"),
                (2048, 8, 2048, 4, 32768, "full", "materialized"),
                (2048, 8, 1024, 4, 32768, "full", "sdpa")]
    if quick:
        return [(256, 2, 128, 2, 8192, "none", "materialized"),
                (256, 2, 128, 2, 8192, "full", "materialized"),
                (384, 2, 64, 2, 8192, "none", "materialized")]
    return [(256, 2, 128, 2, 8192, "none", "materialized"),
            (256, 4, 256, 4, 8192, "none", "materialized"),
            (256, 4, 256, 4, 8192, "full", "materialized"),
            (256, 6, 512, 2, 8192, "none", "materialized"),
            (384, 2, 256, 2, 8192, "none", "materialized"),
            (384, 4, 128, 8, 8192, "none", "materialized"),
            (384, 6, 256, 2, 8192, "full", "materialized"),
            (512, 2, 512, 1, 8192, "none", "materialized"),
            (512, 4, 256, 2, 16384, "none", "materialized"),
            (512, 4, 256, 4, 8192, "full", "materialized"),
            (512, 6, 128, 4, 8192, "none", "materialized"),
            (768, 2, 256, 2, 8192, "none", "materialized"),
            (768, 4, 128, 4, 8192, "none", "materialized"),
            (768, 4, 256, 2, 8192, "full", "materialized"),
            (768, 6, 256, 2, 8192, "none", "materialized")]


def measure_step(ctx, cfg):
    torch = ctx.torch
    hidden, layers, seq, mb, vocab, recompute, impl = cfg
    heads = hidden // 64
    torch.manual_seed(1234)
    model = make_gpt(torch, vocab, hidden, layers, heads, seq, impl, recompute).to(ctx.dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    idx = torch.randint(0, vocab, (mb, seq), dtype=torch.int64, device=ctx.dev)
    targets = torch.randint(0, vocab, (mb, seq), dtype=torch.int64, device=ctx.dev)

    def step():
        opt.zero_grad(set_to_none=False)
        loss = model(idx, targets)
        loss.backward()
        opt.step()

    budget = ctx.budget(6.0, 0.6, 3.0, 0.5)
    samples, info = ctx.timer.measure(step, budget, allow_inner=False)
    params = list(model.parameters())
    nparams = sum(p.numel() for p in params)
    state = optimizer_state_tensors(torch, opt)
    static = unique_bytes(params + [p.grad for p in params] + state)
    baseline = unique_bytes(params + [p.grad for p in params] + state + list(model.buffers()) + [idx, targets])
    if ctx.kind == "cuda":
        ctx.timer.sync()
        cuda_base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
        peak_method = "torch.cuda.max_memory_allocated after reset_peak_memory_stats (allocated at step start: %d B)" % cuda_base
        baseline_out = cuda_base
    else:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()
        rise, how = traced_cpu_peak(torch, prof)
        peak = baseline + rise if rise is not None else None
        peak_method = "baseline (parameters, grads, optimizer state, buffers, idx, targets; each storage once) "\
                      "+ max prefix sum of allocations traced by torch.profiler: " + how
        baseline_out = baseline
        del prof
    meas = summarize(samples)
    meas.update({"warmup": info["warmup"], "threads": torch.get_num_threads(), "device_kind": ctx.kind,
                 "load_average": load_average(),
                 "baseline_bytes": baseline_out, "peak_bytes": peak, "peak_method": peak_method})
    return meas, nparams, static


def step_record(ctx, cfg, meas, nparams, static):
    hidden, layers, seq, mb, vocab, recompute, impl = cfg
    heads = hidden // 64
    dname = ctx.device_info["name"]
    default_vocab = 32768 if ctx.kind == "cuda" else 8192
    rid = "harness-%s-h%d-l%d-s%d-b%d-%s" % (ctx.kind, hidden, layers, seq, mb, recompute)
    if vocab != default_vocab:
        rid += "-v%d" % vocab
    if impl != "materialized":
        rid += "-" + impl
    tokens = mb * seq
    med = meas["median_s"]
    precision = "tf32" if ctx.kind == "cuda" else "fp32"
    notes = ("Eager PyTorch %s on one %s device (%s), %d threads. GPT-2 style: learned positions, pre-LN "
             "LayerNorm with bias, fused QKV and all Linear layers with bias, exact GELU MLP (4h), no dropout, "
             "LM head tied to the token embedding, fp32 cross-entropy; attention %s (%s); causal mask a (s, s) "
             "bool buffer per layer. fp32 weights, gradients and Adam(lr=1e-4) state; "
             "zero_grad(set_to_none=False), forward, backward, optimizer.step() per step%s. Peak memory: %s."
             % (ctx.torch.__version__, ctx.kind, dname, ctx.device_info["threads"], impl,
                "scores, -inf mask, softmax, probs@v materialized" if impl == "materialized"
                else "F.scaled_dot_product_attention(is_causal=True)",
                "; TF32 matmuls enabled" if ctx.kind == "cuda" else "",
                "torch.cuda.max_memory_allocated over one step" if ctx.kind == "cuda"
                else "allocations traced over one step by torch.profiler(profile_memory=True) above the tensors "
                     "alive at the step start"))
    if recompute == "full":
        notes += " Full recomputation: every block wrapped in torch.utils.checkpoint.checkpoint."
    if ctx.kind == "cpu":
        notes += " Thread environment: %s." % " ".join(
            "%s=%s" % (v, os.environ[v]) for v in THREAD_ENV if v in os.environ)
    return {
        "id": rid,
        "group": "clustersim measure harness (%s)" % dname,
        "source": "tools/measure/clustersim_measure.py steps",
        "source_detail": "%s, torch %s, %d threads" % (ctx.created, ctx.torch.__version__, ctx.device_info["threads"]),
        "source_url": None,
        "verification": "read_from_source",
        "model_name": "harness GPT (h%d l%d s%d)" % (hidden, layers, seq),
        "num_params_b": nparams / 1e9,
        "num_layers": layers,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_kv_heads": heads,
        "ffn_hidden_size": 4 * hidden,
        "mlp_type": "gelu",
        "vocab_size": vocab,
        "seq_length": seq,
        "gpu_type": dname,
        "num_gpus": 1,
        "gpus_per_node": 1,
        "interconnect": None,
        "framework": "PyTorch eager (clustersim measure harness)",
        "precision": precision,
        "tp": 1, "pp": 1, "dp": 1, "cp": 1, "ep": None,
        "sequence_parallel": False,
        "virtual_pp": None,
        "zero_stage": 0,
        "fsdp": None,
        "distributed_optimizer": False,
        "recompute": recompute,
        "micro_batch_size": mb,
        "global_batch_size": mb,
        "grad_accum_steps": 1,
        "iteration_time_s": med,
        "tokens_per_s": tokens / med,
        "tokens_per_s_per_gpu": tokens / med,
        "tflops_per_gpu": None,
        "tflops_kind": None,
        "mfu_pct": None,
        "hfu_pct": None,
        "aggregate_pflops": None,
        "peak_memory_gib": meas["peak_bytes"] / 2 ** 30 if meas["peak_bytes"] is not None else None,
        "memory_kind": MEMORY_KIND,
        "static_memory_gib": static / 2 ** 30,
        "attention_impl": impl,
        "measurement": meas,
        "notes": notes,
        "inferred_fields": [],
        "completeness": {"core_inputs_known": "14/14", "outputs": ["iteration_time_s", "peak_memory_gib"],
                         "missing_core_inputs": []},
    }


def framework_configs(quick):
    """Tiny steps whose kernels take next to nothing: what is left is the framework's own time per layer
    and per step (Python, autograd, dispatch), which `clustersim calibrate` fits from them."""
    layers = [1, 4] if quick else [1, 2, 4, 8]
    return [(64, n, 32, 1, 256, "none", "materialized") for n in layers]


def build_steps(ctx, cfgs=None):
    torch = ctx.torch
    if ctx.kind == "cuda":
        ctx.set_tf32(True)
    if cfgs is None:
        cfgs = step_configs(ctx.kind, ctx.quick)
    if ctx.kind == "cuda" and not has_sdpa(torch):
        log("torch %s has no scaled_dot_product_attention: sdpa step configs left out" % torch.__version__)
        cfgs = [c for c in cfgs if c[6] != "sdpa"]
    log("steps on %s (%s): %d configurations%s" % (ctx.kind, ctx.device_info["name"], len(cfgs),
                                                   ", quick" if ctx.quick else ""))
    records = []
    for cfg in cfgs:
        label = "h%d l%d s%d b%d v%d %s %s" % cfg
        t0 = time.perf_counter()
        meas = None
        try:
            meas, nparams, static = measure_step(ctx, cfg)
        except Exception as e:
            if not is_oom(e):
                raise
            log("step %s left out: out of memory (%s)" % (label, str(e).strip().splitlines()[0][:160]))
        free_cuda(ctx)  # after the except clause, whose traceback held measure_step's tensors
        if meas is None:
            continue
        rec = step_record(ctx, cfg, meas, nparams, static)
        records.append(rec)
        log("step %s: %.1f ms (min %.1f, %d reps), %.0f tokens/s, peak %.1f MiB (static %.1f MiB) [%.1f s]" % (
            label, meas["median_s"] * 1e3, meas["min_s"] * 1e3, meas["repeats"], rec["tokens_per_s"],
            (meas["peak_bytes"] or 0) / 2 ** 20, static / 2 ** 20, time.perf_counter() - t0))
    ctx.set_tf32(False)
    return records


# --------------------------------------------------------------------------------------------------
# output


def finite(obj, where="$"):
    """obj with every non-finite float replaced by null (JSON has no NaN/inf), so that a freak timing
    cannot lose a whole run at the end."""
    if isinstance(obj, float) and not math.isfinite(obj):
        log("warning: %s is %r; written as null" % (where, obj))
        return None
    if isinstance(obj, dict):
        return {k: finite(v, "%s.%s" % (where, k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v, "%s[%d]" % (where, i)) for i, v in enumerate(obj)]
    return obj


def dumps_steps(recs):
    return json.dumps(finite(recs), indent=1, allow_nan=False) + "\n"


def dumps_profile(prof):
    """The profile with one record per line (valid JSON)."""
    prof = finite(prof)
    lines = ["{"]
    keys = list(prof.keys())
    for i, k in enumerate(keys):
        v = prof[k]
        comma = "," if i + 1 < len(keys) else ""
        if isinstance(v, list):
            if not v:
                lines.append(" %s: []%s" % (json.dumps(k), comma))
            else:
                lines.append(" %s: [" % json.dumps(k))
                for j, r in enumerate(v):
                    lines.append("  %s%s" % (json.dumps(r, allow_nan=False), "," if j + 1 < len(v) else ""))
                lines.append(" ]%s" % comma)
        else:
            lines.append(" %s: %s%s" % (json.dumps(k), json.dumps(v, allow_nan=False), comma))
    lines.append("}")
    return "\n".join(lines) + "\n"


def check_writable(path, force):
    if os.path.exists(path) and not force:
        raise UsageError("%s exists; give --force to overwrite it" % path)
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise UsageError("directory %s does not exist" % d)


def write_atomic(path, text, force):
    check_writable(path, force)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    log("wrote %s" % path)


# --------------------------------------------------------------------------------------------------
# command line


def parse_args(argv):
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=("cpu", "cuda"), default=None,
                        help="device to measure (default: cuda if available, else cpu)")
    common.add_argument("--quick", action="store_true", help="a short run (smoke test; coarser grids)")
    common.add_argument("--threads", type=int, default=None,
                        help="torch/BLAS threads (default: os.cpu_count())")
    common.add_argument("--force", action="store_true", help="overwrite existing output files")
    common.add_argument("--system-malloc", action="store_true",
                        help="keep the system's malloc settings (default: glibc as a caching allocator, "
                             "see CACHING_MALLOC_ENV; recorded in device.malloc)")
    prof = argparse.ArgumentParser(add_help=False)
    prof.add_argument("--dtypes", default=None,
                      help="comma list of fp32,tf32,bf16,fp16 for GEMM and attention "
                           "(default: fp32 on cpu; bf16,fp16,tf32 on cuda)")
    prof.add_argument("--no-collectives", action="store_true", help="leave the collectives out")
    prof.add_argument("--only", default=None,
                      help="comma list of profile sections to run: %s (default: all)" % ",".join(SECTIONS))

    p = argparse.ArgumentParser(prog="clustersim_measure.py",
                                description="Measure this machine for clustersim (kernel profile, training steps).")
    sub = p.add_subparsers(dest="cmd")
    sp = sub.add_parser("profile", parents=[common, prof], help="kernel profile -> PROFILE.json")
    sp.add_argument("-o", "--output", required=True)
    ss = sub.add_parser("steps", parents=[common], help="training steps -> STEPS.json (JSON array)")
    ss.add_argument("-o", "--output", required=True)
    sa = sub.add_parser("all", parents=[common, prof], help="both -> DIR/profile.json, DIR/steps.json")
    sa.add_argument("--out-dir", required=True)
    args = p.parse_args(argv)
    if not args.cmd:
        p.print_help(sys.stderr)
        sys.exit(2)
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    if args.cmd in ("profile", "all"):
        if args.dtypes is not None:
            ds = [x.strip().lower() for x in args.dtypes.split(",") if x.strip()]
            bad = [x for x in ds if x not in DTYPE_NAMES]
            if bad or not ds:
                p.error("--dtypes: unknown %s (choose from %s)" % (",".join(bad) or "(empty)", ",".join(DTYPE_NAMES)))
            args.dtypes = ds
        if args.only is not None:
            secs = [x.strip().lower() for x in args.only.split(",") if x.strip()]
            bad = [x for x in secs if x not in SECTIONS]
            if bad or not secs:
                p.error("--only: unknown %s (choose from %s)" % (",".join(bad) or "(empty)", ",".join(SECTIONS)))
            args.only = secs
    return args


def main(argv=None):
    if argv is None:
        ensure_caching_malloc(sys.argv[1:])
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Output paths are checked before anything is measured.
    try:
        if args.cmd == "all":
            if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
                raise UsageError("--out-dir %s is not a directory" % args.out_dir)
            for name in ("profile.json", "steps.json"):
                p = os.path.join(args.out_dir, name)
                if os.path.exists(p) and not args.force:
                    raise UsageError("%s exists; give --force to overwrite it" % p)
        else:
            check_writable(args.output, args.force)
    except UsageError as e:
        print("clustersim_measure: error: %s" % e, file=sys.stderr)
        return 1

    torch = import_torch(args.threads)
    cuda_ok = hasattr(torch, "cuda") and torch.cuda.is_available()
    if args.device is None:
        args.device = "cuda" if cuda_ok else "cpu"
    if args.device == "cuda" and not cuda_ok:
        print("clustersim_measure: error: --device cuda but torch %s sees no CUDA device (torch.version.cuda = %s)"
              % (torch.__version__, getattr(torch.version, "cuda", None)), file=sys.stderr)
        return 1
    if args.cmd in ("profile", "all") and args.dtypes is None:
        args.dtypes = ["bf16", "fp16", "tf32"] if args.device == "cuda" else ["fp32"]
    if args.cmd in ("profile", "all"):
        sections = list(args.only) if args.only else list(SECTIONS)
        if args.no_collectives and "collectives" in sections:
            sections.remove("collectives")

    ctx = Ctx(torch, args)
    try:
        if args.cmd == "profile":
            prof = build_profile(ctx, args.dtypes, sections)
            write_atomic(args.output, dumps_profile(prof), args.force)
        elif args.cmd == "steps":
            recs = build_steps(ctx)
            write_atomic(args.output, dumps_steps(recs), args.force)
        else:
            os.makedirs(args.out_dir, exist_ok=True)
            prof = build_profile(ctx, args.dtypes, sections)
            write_atomic(os.path.join(args.out_dir, "profile.json"), dumps_profile(prof), args.force)
            recs = build_steps(ctx)
            write_atomic(os.path.join(args.out_dir, "steps.json"), dumps_steps(recs), args.force)
    except UsageError as e:
        print("clustersim_measure: error: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("clustersim_measure: interrupted; nothing written for the unfinished file", file=sys.stderr)
        return 130
    log("done in %.1f s" % (time.perf_counter() - _T0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
