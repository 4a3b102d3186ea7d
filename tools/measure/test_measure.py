#!/usr/bin/python3
"""Smoke test of tools/measure/clustersim_measure.py: runs `profile --quick` and `steps --quick` into a
temporary directory and checks the schema of both files.

Run with an interpreter that has torch (Debian: /usr/bin/python3 with python3-torch):

    /usr/bin/python3 tools/measure/test_measure.py

Exits 77 ("skipped", as CTest's SKIP_RETURN_CODE and automake read it) when torch cannot be imported.
Takes about 10-30 s on an idle 2-core machine.
"""

import importlib
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "clustersim_measure.py")
TIMING = ("median_s", "min_s", "max_s", "repeats")


def run_tool(*args, timeout=240):
    return subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True, timeout=timeout)


class MeasureSmokeTest(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="clustersim-measure-test-")
        d = cls.tmp.name
        cls.profile_path = os.path.join(d, "profile.json")
        cls.steps_path = os.path.join(d, "steps.json")
        # Two threads at most: the test must stay short on a busy CI machine.
        threads = str(min(2, os.cpu_count() or 1))
        t0 = time.perf_counter()
        cls.p_run = run_tool("profile", "--quick", "--device", "cpu", "--threads", threads, "-o", cls.profile_path)
        t1 = time.perf_counter()
        cls.s_run = run_tool("steps", "--quick", "--device", "cpu", "--threads", threads, "-o", cls.steps_path)
        t2 = time.perf_counter()
        sys.stderr.write("profile --quick: %.1f s, steps --quick: %.1f s\n" % (t1 - t0, t2 - t1))
        for run in (cls.p_run, cls.s_run):
            if run.returncode != 0:
                sys.stderr.write(run.stderr[-4000:])
        cls.profile = cls.steps = None
        if cls.p_run.returncode == 0:
            with open(cls.profile_path) as f:
                cls.profile = json.load(f)
        if cls.s_run.returncode == 0:
            with open(cls.steps_path) as f:
                cls.steps = json.load(f)

    @classmethod
    def tearDownClass(cls):
        if cls.tmp is not None:
            cls.tmp.cleanup()

    # ---- helpers

    def check_timing(self, rec, where):
        for k in TIMING:
            self.assertIn(k, rec, "%s: %s missing" % (where, k))
        self.assertIsInstance(rec["repeats"], int, where)
        self.assertGreaterEqual(rec["repeats"], 1, where)
        for k in ("median_s", "min_s", "max_s"):
            self.assertIsInstance(rec[k], float, where)
            self.assertTrue(math.isfinite(rec[k]) and rec[k] > 0, "%s: %s = %r" % (where, k, rec[k]))
        self.assertLessEqual(rec["min_s"], rec["median_s"], where)
        self.assertLessEqual(rec["median_s"], rec["max_s"], where)

    # ---- profile

    def test_profile_ran(self):
        self.assertEqual(self.p_run.returncode, 0, self.p_run.stderr[-2000:])
        self.assertIn("done in", self.p_run.stderr)

    def test_profile_top_level(self):
        p = self.profile
        self.assertIsNotNone(p)
        self.assertEqual(p["schema"], "clustersim.calibration-profile/1")
        self.assertRegex(p["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(p["tool"], "tools/measure/clustersim_measure.py")
        for k in ("device", "settings", "gemm", "attention", "memory_bound", "collectives", "skipped"):
            self.assertIn(k, p)
        dev = p["device"]
        for k in ("kind", "name", "count", "threads", "torch", "cuda", "driver", "blas", "memory_bytes", "host",
                  "python"):
            self.assertIn(k, dev)
        self.assertEqual(dev["kind"], "cpu")
        self.assertIsInstance(dev["name"], str)
        self.assertTrue(dev["name"])
        self.assertIsInstance(dev["count"], int)
        self.assertIsInstance(dev["threads"], int)
        self.assertIsInstance(dev["memory_bytes"], int)
        self.assertGreater(dev["memory_bytes"], 0)
        self.assertIsInstance(dev["blas"], str)
        s = p["settings"]
        self.assertEqual((s["warmup"], s["repeats"], s["quick"]), (1, 3, True))
        for sk in p["skipped"]:
            self.assertIsInstance(sk["what"], str)
            self.assertIsInstance(sk["reason"], str)

    def test_gemm_grid(self):
        g = self.profile["gemm"]
        self.assertTrue(g)
        for dtype in {r["dtype"] for r in g}:
            self.assertIn(dtype, ("fp32", "tf32", "bf16", "fp16"))
            recs = [r for r in g if r["dtype"] == dtype]
            ms = sorted({r["m"] for r in recs})
            ns = sorted({r["n"] for r in recs})
            ks = sorted({r["k"] for r in recs})
            self.assertEqual(ms, ns)
            self.assertEqual(ms, ks)
            points = {(r["m"], r["n"], r["k"]) for r in recs}
            self.assertEqual(points, set(itertools.product(ms, ns, ks)), "not a full tensor-product grid")
            self.assertEqual(len(recs), len(points), "duplicate grid points")
        for r in g:
            self.assertEqual(r["batch"], 1)
            self.assertEqual(r["flops"], 2 * r["m"] * r["n"] * r["k"])
            self.check_timing(r, "gemm %r" % r)

    def test_gemm_interleaved(self):
        g = self.profile["gemm_interleaved"]
        self.assertTrue(g)
        for r in g:
            for key in ("gemm_s", "elementwise_s", "pair_s", "in_step_s"):
                self.assertGreater(r[key], 0, "gemm_interleaved %r: %s" % (r, key))
            self.assertEqual(r["flops"], 2 * r["m"] * r["n"] * r["k"] * r["batch"])
            self.assertAlmostEqual(r["in_step_s"], max(r["pair_s"] - r["elementwise_s"], 1e-12))

    def test_framework_steps(self):
        f = self.profile["framework_steps"]
        self.assertGreaterEqual(len({r["num_layers"] for r in f}), 2, "two depths at least")
        for r in f:
            self.assertEqual(r["hidden_size"], 64)
            self.assertGreater(r["iteration_time_s"], 0)
            self.assertIn("clustersim measure harness", r["framework"])

    def test_device_settings(self):
        d = self.profile["device"]
        self.assertTrue(d["flush_denormal"])
        self.assertTrue(d["malloc"].startswith("caching"), d["malloc"])

    def test_attention(self):
        a = self.profile["attention"]
        self.assertTrue(a)
        for r in a:
            for k in ("impl", "dtype", "batch", "heads", "seq", "head_dim", "causal", "pass", "flops"):
                self.assertIn(k, r)
            self.assertIn(r["impl"], ("materialized", "sdpa"))
            self.assertIn(r["pass"], ("forward", "backward"))
            self.assertIs(r["causal"], True)
            full = 4 * r["batch"] * r["heads"] * r["seq"] ** 2 * r["head_dim"]
            if r["pass"] == "backward":
                full *= 2
            self.assertEqual(r["flops"], full if r["impl"] == "materialized" else full // 2)
            self.check_timing(r, "attention %r" % r)
        for s in {r["seq"] for r in a}:
            self.assertEqual({r["pass"] for r in a if r["seq"] == s}, {"forward", "backward"})

    def test_memory_bound(self):
        m = self.profile["memory_bound"]
        self.assertTrue(m)
        factor = {"copy": 2, "add": 3, "layernorm": 2, "rmsnorm": 18, "softmax": 2, "log_softmax": 2, "gelu": 2, "swiglu": 3}
        self.assertEqual({r["kernel"] for r in m}, set(factor) | {"adam"})
        for r in m:
            e = {"fp32": 4, "bf16": 2, "fp16": 2}[r["dtype"]]
            if r["kernel"] == "adam":
                self.assertEqual(r["dtype"], "fp32")
                self.assertEqual(r["bytes"], 28 * r["elements"])
            else:
                self.assertEqual(r["bytes"], factor[r["kernel"]] * r["elements"] * e)
            self.check_timing(r, "memory_bound %r" % r)

    def test_collectives(self):
        c = self.profile["collectives"]
        skipped = " ".join(s["what"] for s in self.profile["skipped"])
        if not c:
            self.assertIn("collective", skipped, "no collectives and no reason recorded")
            return
        bus = {"all-reduce": lambda n: 2.0 * (n - 1) / n, "all-gather": lambda n: (n - 1) / n,
               "reduce-scatter": lambda n: (n - 1) / n, "broadcast": lambda n: 1.0}
        for r in c:
            self.assertIn(r["op"], bus)
            self.assertIn(r["backend"], ("gloo", "nccl"))
            self.assertIsInstance(r["ranks"], int)
            self.assertIsInstance(r["bytes"], int)
            self.check_timing(r, "collective %r" % r)
            self.assertAlmostEqual(r["algbw"], r["bytes"] / r["median_s"], delta=1e-6 * r["algbw"])
            self.assertAlmostEqual(r["busbw"], r["algbw"] * bus[r["op"]](r["ranks"]), delta=1e-6 * r["algbw"])
        if any(r["backend"] == "gloo" for r in c) and not any(r["op"] == "reduce-scatter" for r in c):
            self.assertIn("reduce-scatter", skipped)

    # ---- steps

    def test_steps_ran(self):
        self.assertEqual(self.s_run.returncode, 0, self.s_run.stderr[-2000:])

    def test_steps_records(self):
        st = self.steps
        self.assertIsInstance(st, list)
        self.assertTrue(st)
        ints = ("num_layers", "hidden_size", "num_attention_heads", "num_kv_heads", "ffn_hidden_size", "vocab_size",
                "seq_length", "num_gpus", "gpus_per_node", "tp", "pp", "dp", "cp", "zero_stage", "micro_batch_size",
                "global_batch_size", "grad_accum_steps")
        strs = ("id", "group", "source", "source_detail", "verification", "model_name", "mlp_type", "gpu_type",
                "framework", "precision", "recompute", "memory_kind", "attention_impl", "notes")
        nulls = ("source_url", "interconnect", "ep", "virtual_pp", "fsdp", "tflops_per_gpu", "tflops_kind",
                 "mfu_pct", "hfu_pct", "aggregate_pflops")
        floats = ("num_params_b", "iteration_time_s", "tokens_per_s", "tokens_per_s_per_gpu", "peak_memory_gib",
                  "static_memory_gib")
        device_name = self.profile["device"]["name"] if self.profile else None
        for r in st:
            where = r.get("id", "?")
            for k in ints:
                self.assertIsInstance(r[k], int, "%s: %s" % (where, k))
                self.assertNotIsInstance(r[k], bool, "%s: %s" % (where, k))
            for k in strs:
                self.assertIsInstance(r[k], str, "%s: %s" % (where, k))
            for k in nulls:
                self.assertIn(k, r, "%s: %s" % (where, k))
                self.assertIsNone(r[k], "%s: %s" % (where, k))
            for k in floats:
                self.assertIsInstance(r[k], float, "%s: %s" % (where, k))
                self.assertGreater(r[k], 0, "%s: %s" % (where, k))
            for k in ("sequence_parallel", "distributed_optimizer"):
                self.assertIs(r[k], False)
            self.assertEqual(r["verification"], "read_from_source")
            self.assertEqual(r["mlp_type"], "gelu")
            self.assertEqual(r["precision"], "fp32")
            self.assertIn(r["recompute"], ("none", "full"))
            self.assertIn(r["attention_impl"], ("materialized", "sdpa"))
            self.assertIn("max_memory_allocated", r["memory_kind"])
            self.assertEqual(r["num_attention_heads"] * 64, r["hidden_size"])
            self.assertEqual(r["ffn_hidden_size"], 4 * r["hidden_size"])
            self.assertEqual((r["tp"], r["pp"], r["dp"], r["cp"], r["num_gpus"]), (1, 1, 1, 1, 1))
            self.assertEqual(r["global_batch_size"], r["micro_batch_size"])
            self.assertTrue(r["id"].startswith("harness-cpu-h%d-l%d-s%d-b%d-%s" % (
                r["hidden_size"], r["num_layers"], r["seq_length"], r["micro_batch_size"], r["recompute"])), where)
            if device_name:
                self.assertEqual(r["gpu_type"], device_name)
            tokens = r["micro_batch_size"] * r["seq_length"]
            self.assertAlmostEqual(r["tokens_per_s"], tokens / r["iteration_time_s"], delta=1e-6 * r["tokens_per_s"])
            self.assertGreaterEqual(r["peak_memory_gib"], r["static_memory_gib"])
            m = r["measurement"]
            self.check_timing(m, where)
            self.assertEqual(m["median_s"], r["iteration_time_s"])
            self.assertGreaterEqual(m["warmup"], 1)
            self.assertEqual(m["device_kind"], "cpu")
            self.assertIsInstance(m["threads"], int)
            self.assertIsInstance(m["baseline_bytes"], int)
            self.assertIsInstance(m["peak_bytes"], int)
            self.assertGreaterEqual(m["peak_bytes"], m["baseline_bytes"])
            self.assertEqual(r["inferred_fields"], [])
            self.assertEqual(r["completeness"]["core_inputs_known"], "14/14")
            self.assertEqual(r["completeness"]["missing_core_inputs"], [])
        self.assertEqual(len({r["id"] for r in st}), len(st), "ids not unique")

    # ---- command line behaviour (no measuring)

    def test_refuses_to_overwrite(self):
        if self.profile is None:
            self.skipTest("profile run failed")
        before = os.stat(self.profile_path).st_mtime_ns
        run = run_tool("profile", "--quick", "-o", self.profile_path, timeout=60)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("--force", run.stderr)
        self.assertEqual(os.stat(self.profile_path).st_mtime_ns, before)
        run = run_tool("all", "--quick", "--out-dir", os.path.dirname(self.steps_path), timeout=60)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("--force", run.stderr)

    def test_message_without_torch(self):
        code = ("import sys; sys.modules['torch'] = None; sys.argv = ['clustersim_measure.py'] + sys.argv[1:]; "
                "import runpy; runpy.run_path(%r, run_name='__main__')" % TOOL)
        out = os.path.join(self.tmp.name, "never.json")
        run = subprocess.run([sys.executable, "-c", code, "steps", "-o", out, "--system-malloc"], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 2, run.stderr)
        self.assertIn("python3-torch", run.stderr)
        self.assertIn("/usr/bin/python3", run.stderr)
        self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    try:
        importlib.import_module("torch")
    except Exception as e:
        print("test_measure: skipped: torch cannot be imported by %s (%s). Install Debian's python3-torch and "
              "run with /usr/bin/python3." % (sys.executable, e), file=sys.stderr)
        sys.exit(77)
    unittest.main(verbosity=2)
