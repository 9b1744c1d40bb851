#!/usr/bin/env python3
"""sfmc-relay benchmark: throughput, latency, CPU and memory against the
machine's own limits, in one run. Started by tests/bench/run-bench (which
installs and builds first); see tests/bench/README.md.

Everything runs on loopback: a real Kafka broker (tests/kafka/broker), fresh
sfmc-sim processes (--record-limit 0), the real sfmc-relay binary, and
kafka_bench (produce / passthrough / collect). Prints a table and writes the
JSON report.
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import platform
import resource
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import threading
import urllib.error
import urllib.request

PARTITIONS = 6          # of every input topic (--partitions)
WINDOW = 1000           # pipeline.max_in_flight
# http.max_connections (and wrk -c) by simulator latency: what the rate
# needs (10,000 events/s at 20 ms keep 200 requests in flight), no more.
# Each idle keep-alive connection costs the simulator (cpp-httplib polls it
# every 10 ms), so more than needed only measures that.
CONNECTIONS = {0: 64, 20: 256}
# The coalescing section (issue 13): the daemon's own window and coalescing
# settings, 64 connections at every simulator latency.
COALESCE_LATENCIES = (0, 20, 200)
COALESCE_CONNECTIONS = 64
COALESCE_OFF = {"pipeline": {"coalesce": {"enabled": False}}}
# The concurrency section (the adaptive per-account limiter): the daemon's
# defaults (window, coalescing, http.concurrency left out), 64 connections
# (the daemon's default http.max_connections), the simulator at 200 ms.
CONC_LATENCY = 200
CONC_CONNECTIONS = 64
CONC_CAPACITY = 24               # case 2: sfmc-sim --capacity 24
CONC_SCHEDULE = (24, 64, 8)      # case 3: calls in progress the simulator takes, one phase each
CONC_CASES = ("unmergeable", "capacity", "schedule", "merged", "mix")
# The mix: one unique event in MIX_EVERY, on partitions of their own (the odd
# ones); the merging ones on the even partitions, so both backlogs last about
# as long (~320 unique a second beside ~15,000 merging).
MIX_EVERY = 40
SIM_SAMPLE_S = 0.25              # GET /_sim/stats period
SIM_THREADS = 600          # cpp-httplib holds a thread per kept-alive connection: room for --variant http.max_connections up to ~550
OUTCOME_BYTES = 330     # a one-recipient accepted outcome is ~320-340 bytes
STALL_S = 20            # a run ends when no outcome came for this long


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def read_stat(path):
    """(command name, utime+stime in seconds) from a /proc .../stat file; None if gone."""
    try:
        with open(path) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return stat[stat.index("(") + 1:stat.rindex(")")], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds per thread of a live process, in creation (tid) order."""
    rows = []
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        stat = read_stat(f"/proc/{pid}/task/{tid}/stat")
        if stat:
            rows.append({"tid": int(tid), "name": stat[0], "cpu_s": round(stat[1], 2)})
    return rows


def proc_cpu(pid):
    """utime+stime of a live process (all threads), in seconds; 0 if gone."""
    stat = read_stat(f"/proc/{pid}/stat")
    return stat[1] if stat else 0.0


def machine_busy():
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Budget:
    """Where the machine's CPU went during one measurement: per process and in all."""

    def __init__(self, **pids):
        self.pids = pids
        self.start = {name: proc_cpu(pid) for name, pid in pids.items()}
        self.busy = machine_busy()
        self.t0 = time.time()

    def finish(self, per_units, unit="10k"):
        wall = max(0.001, time.time() - self.t0)
        d = {f"{name}_cpu_s_per_{unit}": round((proc_cpu(pid) - self.start[name]) / max(1, per_units) * 1e4, 3)
             for name, pid in self.pids.items()}
        d["machine_busy_cores"] = round((machine_busy() - self.busy) / wall, 2)
        return d


def metric_value(text, name):
    """An unlabelled sample from a Prometheus text page; None when absent."""
    m = re.search(r"^" + name + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def metric_total(text, name):
    """The sum of a metric's samples over all its label sets; None when absent."""
    values = [float(v) for v in re.findall(r"^" + name + r"(?:\{[^}]*\})? (\S+)$", text, re.M)]
    return sum(values) if values else None


def send_calls(sim_stats):
    """Requests the simulator got on its send routes (every POST but the
    token's), whatever it answered."""
    return sum(sum(statuses.values()) for route, statuses in (sim_stats.get("requests") or {}).items()
               if route.startswith("POST ") and "/v2/token" not in route)


def coalescing_metrics(text):
    """What the daemon says it merged, from its /metrics page."""
    calls = metric_total(text, "sfmc_relay_batch_recipients_count")
    recipients = metric_total(text, "sfmc_relay_batch_recipients_sum")
    return {"calls": calls, "recipients": recipients,
            "recipients_per_call": round(recipients / calls, 1) if calls else None,
            "coalesced_events": metric_total(text, "sfmc_relay_coalesced_events_total"),
            "sfmc_requests": metric_total(text, "sfmc_relay_sfmc_requests_total"),
            "retries": metric_total(text, "sfmc_relay_retries_total")}


class Sampler:
    """Samples the daemon's in-flight window from /metrics every 100 ms."""

    def __init__(self, admin_port, window):
        self.url = f"http://127.0.0.1:{admin_port}/metrics"
        self.window = window  # pipeline.max_in_flight in force
        self.samples = []  # (in flight, paused partitions, consumed, window)
        # (ms, sfmc_relay_sfmc_concurrency_limit, ..._calls_in_flight,
        # ..._latency_baseline_seconds), summed over accounts: only builds
        # with the adaptive limiter have them.
        self.concurrency = []
        self.last = ""  # the last page read, for the run's totals
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.done.wait(0.1):
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    text = r.read().decode()
            except Exception:
                continue
            consumed = metric_value(text, "sfmc_relay_events_consumed_total")
            self.last = text
            limit = metric_total(text, "sfmc_relay_sfmc_concurrency_limit")
            if limit is not None:
                self.concurrency.append((time.time() * 1000, limit,
                                         metric_total(text, "sfmc_relay_sfmc_calls_in_flight"),
                                         metric_total(text, "sfmc_relay_sfmc_latency_baseline_seconds")))
            if consumed:  # from the first event on
                self.samples.append((metric_value(text, "sfmc_relay_in_flight_events"),
                                     metric_value(text, "sfmc_relay_paused_partitions"), consumed,
                                     metric_value(text, "sfmc_relay_window_events")))

    def finish(self):
        self.done.set()
        self.thread.join(5)

    def concurrency_summary(self, from_ms=0, to_ms=float("inf")):
        """The adaptive limiter's gauges over [from_ms, to_ms]; {} when the
        build has none."""
        c = [x for x in self.concurrency if from_ms <= x[0] <= to_ms]
        if not c:
            return {}
        flying = [x[2] for x in c if x[2] is not None]
        base = [x[3] for x in c if x[3] is not None]
        return {"samples": len(c), "limit_mean": round(sum(x[1] for x in c) / len(c), 1), "limit_last": c[-1][1],
                "limit_min": min(x[1] for x in c), "limit_max": max(x[1] for x in c),
                "calls_in_flight_mean": round(sum(flying) / len(flying), 1) if flying else None,
                "calls_in_flight_max": max(flying) if flying else None,
                "latency_baseline_ms_last": round(base[-1] * 1000, 1) if base else None}

    def limit_at(self, t_ms):
        """The last limit sampled at or before t_ms; None if none."""
        before = [x[1] for x in self.concurrency if x[0] <= t_ms]
        return before[-1] if before else None

    def summary(self):
        s = [x for x in self.samples if x[0] is not None]
        if not s:
            return {}
        n = len(s)
        txn = {}
        commits = metric_value(self.last, "sfmc_relay_transaction_commit_seconds_count")
        if commits:  # exactly-once: what the transactions took
            txn = {"transactions": int(commits),
                   "commit_ms_mean": round(metric_value(self.last, "sfmc_relay_transaction_commit_seconds_sum") /
                                           commits * 1000, 1)}
        return {**txn, "samples": n, "in_flight_mean": round(sum(x[0] for x in s) / n),
                "share_empty": round(sum(1 for x in s if x[0] == 0) / n, 2),
                "share_paused": round(sum(1 for x in s if x[1]) / n, 2),
                "window_mean": round(sum(x[3] or 0 for x in s) / n),
                "share_window_full": round(sum(1 for x in s if (x[3] or 0) >= self.window) / n, 2)}


def send_counts(sim_stats):
    """(accepted, refused, all) send calls in a /_sim/stats document:
    answered 2xx, answered 429, and every answer, on the send routes."""
    accepted = refused = calls = 0
    for route, statuses in (sim_stats.get("requests") or {}).items():
        if not route.startswith("POST ") or "/v2/token" in route:
            continue
        for status, n in statuses.items():
            calls += n
            if status.startswith("2"):
                accepted += n
            elif status == "429":
                refused += n
    return accepted, refused, calls


class SimSampler:
    """Samples the simulator's GET /_sim/stats every SIM_SAMPLE_S: the send
    calls it accepted (2xx), refused (429) and got in all, as counters over
    time, for rates over any span of the run."""

    def __init__(self, url, period=SIM_SAMPLE_S):
        self.url = url + "/_sim/stats"
        self.period = period
        self.samples = []  # (ms, accepted, refused, calls)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            t = time.time()
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    self.samples.append((t * 1000, *send_counts(json.loads(r.read().decode()))))
            except Exception:
                pass
            if self.done.wait(max(0.0, self.period - (time.time() - t))):
                return

    def finish(self):
        self.done.set()
        self.thread.join(5)

    def at(self, t_ms, column=1):
        """A counter (1 accepted, 2 refused, 3 calls) at t_ms, interpolated
        between samples; None outside them."""
        s = self.samples
        if not s or t_ms < s[0][0] or t_ms > s[-1][0]:
            return None
        for before, after in zip(s, s[1:]):
            if before[0] <= t_ms <= after[0]:
                span = after[0] - before[0]
                share = (t_ms - before[0]) / span if span else 0.0
                return before[column] + share * (after[column] - before[column])
        return s[-1][column]

    def rate(self, from_ms, to_ms, column=1):
        """A counter's increase per second over [from_ms, to_ms]; None where not sampled."""
        a, b = self.at(from_ms, column), self.at(to_ms, column)
        if a is None or b is None or to_ms <= from_ms:
            return None
        return (b - a) / ((to_ms - from_ms) / 1000)

    def per_second(self, from_ms):
        """Accepted calls per second, second by second from from_ms (for the report)."""
        out, t = [], from_ms
        while self.samples and t + 1000 <= self.samples[-1][0]:
            r = self.rate(t, t + 1000)
            out.append(round(r) if r is not None else None)
            t += 1000
        return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.root = os.path.abspath(args.source)
        self.bin = os.path.abspath(args.bin_dir)
        self.work = os.path.abspath(args.work_dir)
        self.kafka_bench = os.path.join(self.bin, "kafka_bench")
        self.relay = os.path.join(self.bin, "sfmc-relay")
        self.sim = os.path.join(self.bin, "sfmc-sim")
        self.broker = os.path.join(self.root, "tests", "kafka", "broker")
        self.broker_dir = os.path.join(self.work, "broker")
        self.children = []
        self.bootstrap = None
        self.seq = 0
        # The daemon's librdkafka settings for the benchmark (reported).
        # Both clients run on the daemon's defaults (producer linger 20 ms and
        # lz4; a 4 MiB prefetch with a 10 ms fetch.queue.backoff.ms).
        self.producer_properties = {}
        self.consumer_properties = {}
        self.overrides = {}  # --variant: {"consumer"|"producer"|"pipeline"|"http"|"log"|"status": {key: value}}
        # The benchmark's own daemon settings; the coalescing section puts
        # the daemon's defaults in their place.
        self.pipeline_settings = {"max_in_flight": WINDOW, "ordering": "key"}
        self.connections = CONNECTIONS
        self.window = WINDOW  # in force, for the sampler
        self.sim_capacity = None  # whether sfmc-sim takes --capacity (asked once)

    # ---- processes -------------------------------------------------------

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, **kw)
        self.children.append(p)
        return p

    def stop(self, p, timeout=30):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if p in self.children:
            self.children.remove(p)
        return p.returncode

    def cleanup(self):
        for p in list(self.children):
            self.stop(p, 10)
        if self.bootstrap:
            subprocess.run([self.broker, "stop", self.broker_dir], stdout=subprocess.DEVNULL)

    def tool(self, *argv, timeout=900):
        r = subprocess.run([self.kafka_bench, *map(str, argv)], capture_output=True, text=True, timeout=timeout)
        if r.returncode not in (0, 3):
            raise RuntimeError(f"kafka_bench {argv[0]} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
        return json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {}

    def name(self, prefix):
        self.seq += 1
        return f"{prefix}-{self.seq}"

    def topics(self, *names, partitions=None):
        count = partitions or self.args.partitions
        self.tool("topics", "--bootstrap", self.bootstrap, *[f"{n}:{count}" for n in names])

    # ---- the pieces --------------------------------------------------------

    def start_broker(self):
        os.makedirs(self.work, exist_ok=True)
        env = dict(os.environ)
        # The tests' broker is tuned to start fast (C1 only, 512 MB heap);
        # a benchmark wants the full JIT.
        env.setdefault("BROKER_JVM_OPTS", "-Xms1g -Xmx1g -XX:+UseParallelGC -XX:-UsePerfData -Djava.awt.headless=true")
        r = subprocess.run([self.broker, "start", self.broker_dir], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("broker did not start: " + r.stderr[-2000:])
        self.bootstrap = r.stdout.strip().splitlines()[-1]
        log(f"broker at {self.bootstrap}")

    def broker_pid(self):
        try:
            with open(os.path.join(self.broker_dir, "broker.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def start_sim(self, latency_ms, extra=()):
        cmd = [self.sim, "--record-limit", "0", "--threads", str(SIM_THREADS)]
        if latency_ms:
            cmd += ["--latency-ms", str(latency_ms)]
        cmd += list(extra)
        p = self.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        m = re.search(r"listening on (\S+)", line)
        if not m:
            raise RuntimeError("sfmc-sim did not start: " + line)
        return p, m.group(1)

    @staticmethod
    def http(url, method="GET", body=None):
        req = urllib.request.Request(url, method=method, data=body,
                                     headers={"Content-Type": "application/json"} if body else {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()

    def token(self, url):
        _, text = self.http(url + "/v2/token", "POST", json.dumps(
            {"grant_type": "client_credentials", "client_id": "sim-client", "client_secret": "sim-secret"}).encode())
        return json.loads(text)["access_token"]

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def produce(self, topic, count, run, rate=None, kind=None):
        argv = ["produce", "--bootstrap", self.bootstrap, "--topic", topic, "--count", count, "--run", run]
        if rate:
            argv += ["--rate", rate]
        if kind:  # kafka_bench's --kind: merge (its default), unique or mix
            argv += ["--kind", kind]
        if kind == "mix":  # half the partitions each; backlogs that last about as long (MIX_EVERY - 1 : 1)
            argv += ["--mix-every", MIX_EVERY]
        return self.tool(*argv)

    def relay_config(self, sim_url, group, input_topic, outcome_topic, admin_port, latency_ms):
        config = {
            "kafka": {
                "bootstrap_servers": self.bootstrap, "group_id": group,
                "input_topics": [input_topic], "outcome_topic": outcome_topic,
                "producer_properties": self.producer_properties,
                "consumer_properties": self.consumer_properties,
            },
            "accounts": {"default": {"auth_base_url": sim_url, "client_id": "sim-client",
                                     "client_secret_env": "SFMC_BENCH_SECRET"}},
            "pipeline": dict(self.pipeline_settings),
            "http": {"max_connections": self.connections[latency_ms]},
            "admin": {"listen": f"127.0.0.1:{admin_port}"},
            "log": {"level": "warning"},
        }
        o = self.overrides
        config["kafka"]["consumer_properties"] = {**self.consumer_properties, **o.get("consumer", {})}
        config["kafka"]["producer_properties"] = {**self.producer_properties, **o.get("producer", {})}
        config["pipeline"].update(o.get("pipeline", {}))
        config["http"].update(o.get("http", {}))
        config["log"].update(o.get("log", {}))
        if "status" in o:  # the delivery status follow-up, on topics of this run's own
            status = {"topic": self.name("delivery"), "followup_topic": self.name("status-checks")}
            self.topics(status["topic"], status["followup_topic"])
            config["status"] = {**status, **o["status"]}
        return config

    def start_relay(self, sim_url, input_topic, outcome_topic, tag, latency_ms, extra=None):
        admin = self.free_port()
        config = self.relay_config(sim_url, self.name("g"), input_topic, outcome_topic, admin, latency_ms)
        config.update(extra or {})
        path = os.path.join(self.work, f"relay-{tag}.json")
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
        env = dict(os.environ, SFMC_BENCH_SECRET="sim-secret")
        err = open(os.path.join(self.work, f"relay-{tag}.log"), "w")
        start_ms = int(time.time() * 1000)
        p = self.spawn([self.overrides.get("bin", self.relay), "run", "--config", path], stdout=subprocess.DEVNULL,
                       stderr=err, env=env)
        return p, start_ms, admin

    def wait_ready(self, admin, p, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if p.poll() is not None:
                raise RuntimeError(f"sfmc-relay exited with {p.returncode}")
            try:
                if self.http(f"http://127.0.0.1:{admin}/readyz")[0] == 200:
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError("sfmc-relay not ready in time")

    # ---- measurements --------------------------------------------------------

    def kafka_limit(self, input_topic, count):
        out = self.name("out-passthrough")
        self.topics(out)
        start_ms = int(time.time() * 1000)
        p = self.spawn([self.kafka_bench, "passthrough", "--bootstrap", self.bootstrap, "--input", input_topic,
                        "--output", out, "--group", self.name("g"), "--count", str(count),
                        "--max-in-flight", str(WINDOW), "--outcome-bytes", str(OUTCOME_BYTES)],
                       stdout=subprocess.DEVNULL)
        r = self.tool("collect", "--bootstrap", self.bootstrap, "--topic", out, "--count", count,
                      "--pid", p.pid, "--start-ms", start_ms, "--timeout-s", self.args.cap_s)
        self.stop(p)
        return r

    def kafka_paced(self, rate, seconds):
        """The Kafka path alone at a paced rate: the latency floor under the relay's."""
        inp, out = self.name("in-kpaced"), self.name("out-kpaced")
        self.topics(inp, out)
        count = max(100, int(rate * seconds))
        p = self.spawn([self.kafka_bench, "passthrough", "--bootstrap", self.bootstrap, "--input", inp,
                        "--output", out, "--group", self.name("g"), "--count", str(count),
                        "--max-in-flight", str(WINDOW), "--outcome-bytes", str(OUTCOME_BYTES)],
                       stdout=subprocess.DEVNULL)
        try:
            time.sleep(3)  # joined and assigned
            collector = subprocess.Popen([self.kafka_bench, "collect", "--bootstrap", self.bootstrap, "--topic", out,
                                          "--count", str(count), "--pid", str(p.pid),
                                          "--timeout-s", str(seconds + 60)], stdout=subprocess.PIPE, text=True)
            self.produce(inp, count, self.name("kpaced"), rate)
            r = json.loads(collector.communicate(timeout=seconds + 180)[0].strip().splitlines()[-1])
        finally:
            self.stop(p)
        r.update({"rate": round(rate), "events": count})
        return r

    def http_limit(self, latency_ms, bodies, seconds):
        sim, url = self.start_sim(latency_ms)
        try:
            env = dict(os.environ, SIM_TOKEN=self.token(url), BENCH_BODIES=bodies)
            script = os.path.join(self.root, "tests", "bench", "relay-bench.lua")
            budget = Budget(sim=sim.pid)
            wrk_before = os.times()
            r = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS[latency_ms]}", f"-d{seconds}s", "--latency", "-s", script, url],
                               capture_output=True, text=True, env=env, timeout=seconds + 60)
            wrk_after = os.times()
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", r.stdout).group(1))
            cost = budget.finish(rps * seconds)
            cost["wrk_cpu_s_per_10k"] = round((wrk_after.children_user + wrk_after.children_system -
                                               wrk_before.children_user - wrk_before.children_system) /
                                              max(1, rps * seconds) * 1e4, 3)
            errors = re.search(r"non-2xx: (\d+), socket errors: connect (\d+) read (\d+) write (\d+) timeout (\d+)",
                               r.stdout)
            p99 = re.search(r"\s99%\s+(\S+)", r.stdout)
            return {"requests_per_s": rps, "connections": CONNECTIONS[latency_ms], "seconds": seconds,
                    "non_2xx": int(errors.group(1)), "socket_errors": sum(int(x) for x in errors.groups()[1:]),
                    "p99": p99.group(1) if p99 else None, **cost}
        finally:
            self.stop(sim)

    def relay_backlog(self, input_topic, count, latency_ms, tag, perf=None):
        """All events already on the topic; the daemon starts; time to the last outcome."""
        out = self.name("out-" + tag)
        self.topics(out)
        sim, url = self.start_sim(latency_ms)
        relay, start_ms, admin = self.start_relay(url, input_topic, out, tag, latency_ms)
        budget = Budget(sim=sim.pid, broker=self.broker_pid())
        sampler = Sampler(admin, self.window)
        profiler = None
        if perf:
            self.wait_ready(admin, relay)  # librdkafka's threads exist: perf -p follows only those present
            profiler = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-o", perf, "-p", str(relay.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            r = self.tool("collect", "--bootstrap", self.bootstrap, "--topic", out, "--count", count,
                          "--pid", relay.pid, "--start-ms", start_ms, "--timeout-s", self.args.cap_s,
                          "--stall-s", STALL_S)
            r["threads"] = thread_cpu(relay.pid)
            r["budget"] = budget.finish(r.get("read", 0))
            try:
                r["relay_metrics"] = coalescing_metrics(self.http(f"http://127.0.0.1:{admin}/metrics")[1])
            except Exception:
                pass
        finally:
            sampler.finish()
            if profiler:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(60)
            code = self.stop(relay)
            try:
                sim_stats = json.loads(self.http(url + "/_sim/stats")[1])
            except Exception:
                sim_stats = {}
            self.stop(sim)
        r.update(self.derive(r, latency_ms))
        if r["truncated"]:
            # Not all done: the rate is what got done in the time waited (from
            # the daemon's start), not the burst before a stall.
            r["steady_events_per_s_of_done"] = r["steady_events_per_s"]
            r["steady_events_per_s"] = round(r["read"] / max(0.001, (r["done_ms"] - start_ms) / 1000), 1)
        r["window"] = sampler.summary()
        if r["window"].get("transactions"):
            r["window"]["transactions_per_s"] = round(
                r["window"]["transactions"] / max(0.001, (r["done_ms"] - start_ms) / 1000), 1)
        r.update(self.colocated(r))
        r.update(self.fairness(r, start_ms))
        r["cpu_utilisation"] = round(r["cpu_s"] / max(0.001, (r["done_ms"] - start_ms) / 1000), 2)
        r.update({"events": count, "sim_latency_ms": latency_ms, "relay_exit": code,
                  "sim_requests": sim_stats.get("requests_total"), "sim_requests_by_route": sim_stats.get("requests")})
        r.update(self.calls_per_event(sim_stats, r))
        return r

    @staticmethod
    def calls_per_event(sim_stats, r):
        """SFMC calls (the simulator's count on the send routes, retries
        included) per event the daemon finished."""
        if not sim_stats or not r.get("read"):
            return {}
        calls = send_calls(sim_stats)
        return {"sfmc_calls": calls, "sfmc_calls_per_event": round(calls / r["read"], 4)}

    def relay_held_backlog(self, held, seconds, tag):
        """The backlog never exceeds `held` events, for `seconds`: the next
        `held` are produced once the daemon has consumed the ones before.
        Beside a single burst of `held` (over in a few seconds), this shows
        what memory does with that backlog over a run as long as the big one."""
        inp, out = self.name("in-" + tag), self.name("out-" + tag)
        self.topics(inp, out)
        sim, url = self.start_sim(0)
        relay, start_ms, admin = self.start_relay(url, inp, out, tag, 0)
        metrics = f"http://127.0.0.1:{admin}/metrics"

        def consumed():
            return metric_value(self.http(metrics)[1], "sfmc_relay_events_consumed_total") or 0.0

        produced, rounds = 0, 0
        try:
            self.wait_ready(admin, relay)
            end = time.time() + seconds
            while time.time() < end:
                self.produce(inp, held, self.name(f"held{rounds}"))
                produced += held
                rounds += 1
                while consumed() < produced and time.time() < end + 60:
                    time.sleep(0.05)
            r = self.tool("collect", "--bootstrap", self.bootstrap, "--topic", out, "--count", produced,
                          "--pid", relay.pid, "--start-ms", start_ms, "--timeout-s", self.args.cap_s,
                          "--stall-s", STALL_S)
        finally:
            self.stop(relay)
            self.stop(sim)
        r.update(self.derive(r, 0))
        r.update({"events": produced, "held": held, "rounds": rounds, "seconds": seconds, "sim_latency_ms": 0})
        return r

    @staticmethod
    def colocated(r):
        """The co-located bound: what the machine's cores could carry if relay,
        simulator and broker spent on each event what they spent here, and the
        relay's rate against it."""
        b = r.get("budget") or {}
        parts = [r.get("cpu_s_per_10k"), b.get("sim_cpu_s_per_10k"), b.get("broker_cpu_s_per_10k")]
        if not all(parts):
            return {}
        bound = os.cpu_count() * 1e4 / sum(parts)
        return {"colocated_bound_events_per_s": round(bound), "colocated_ratio": round(r["steady_events_per_s"] / bound, 3)}

    @staticmethod
    def fairness(r, start_ms):
        """How evenly the input partitions were served in a backlog run, on
        the clock of the run itself (from the first outcome of any partition
        to the last, so the daemon's start and group join count for none):
        when each partition got its first and last outcome (% of the run),
        and each partition's median end-to-end latency against the median of
        all events (every event waits from the run's start: a starved
        partition's median is far above the rest)."""
        each = (r.get("partitions") or {}).get("each") or []
        if len(each) < 2 or not r.get("read"):
            return {}
        t0 = min(p["first_ms"] for p in each)
        span = max(1.0, max(p["last_ms"] for p in each) - t0)
        overall = max(1.0, r["partitions"]["p50_ms"] - t0)
        rows = [{"partition": p["partition"], "events": p["n"],
                 "first_pct": round(100 * (p["first_ms"] - t0) / span, 1),
                 "last_pct": round(100 * (p["last_ms"] - t0) / span, 1),
                 "p50_vs_all": round((p["p50_ms"] - t0) / overall, 2)} for p in each]
        return {"fairness": {"run_ms": round(span), "p50_ms": round(overall),
                             "latest_first_pct": max(x["first_pct"] for x in rows),
                             "earliest_last_pct": min(x["last_pct"] for x in rows),
                             "p50_vs_all": [min(x["p50_vs_all"] for x in rows), max(x["p50_vs_all"] for x in rows)],
                             "partitions": rows}}

    @staticmethod
    def derive(r, latency_ms):
        done = r.get("read", 0)
        d = {"truncated": bool(r.get("timed_out") or r.get("stalled"))}
        if done:
            d["cpu_s_per_10k"] = round(r["cpu_s"] / done * 10000, 3)
        d["vmhwm_mib"] = round(r["vmhwm_kb"] / 1024, 1)
        lat = r.get("latency_ms", {})
        if lat.get("n"):
            d["added_latency_ms"] = {k: round(lat[k] - latency_ms, 1) for k in ("p50", "p90", "p99", "max")}
        return d

    def relay_paced(self, latency_ms, rate, seconds, tag, min_events=100):
        """The daemon idles on an empty topic; events arrive at `rate`/s."""
        inp, out = self.name("in-" + tag), self.name("out-" + tag)
        self.topics(inp, out)
        sim, url = self.start_sim(latency_ms)
        relay, _, admin = self.start_relay(url, inp, out, tag, latency_ms)
        count = max(min_events, int(rate * seconds))
        sim_stats = {}
        sampler = None
        try:
            self.wait_ready(admin, relay)
            time.sleep(0.5)
            sampler = Sampler(admin, self.window)
            collector = subprocess.Popen([self.kafka_bench, "collect", "--bootstrap", self.bootstrap, "--topic", out,
                                          "--count", str(count), "--pid", str(relay.pid),
                                          "--timeout-s", str(seconds + 60), "--stall-s", str(STALL_S)],
                                         stdout=subprocess.PIPE, text=True)
            produced = self.produce(inp, count, self.name("paced"), rate)
            r = json.loads(collector.communicate(timeout=seconds + 180)[0].strip().splitlines()[-1])
            try:
                r["relay_metrics"] = coalescing_metrics(self.http(f"http://127.0.0.1:{admin}/metrics")[1])
            except Exception:
                pass
        finally:
            if sampler:
                sampler.finish()
            self.stop(relay)
            try:
                sim_stats = json.loads(self.http(url + "/_sim/stats")[1])
            except Exception:
                pass
            self.stop(sim)
        r.update(self.derive(r, latency_ms))
        r.update(self.calls_per_event(sim_stats, r))
        r["window"] = sampler.summary() if sampler else {}
        r.update({"rate": round(rate), "events": count, "sim_latency_ms": latency_ms,
                  "produced_events_per_s": produced.get("events_per_s")})
        return r

    def profile_report(self, data):
        def report(sort, limit):
            r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "-g", "none",
                                "--percent-limit", "0.8", "--sort", sort],
                               capture_output=True, text=True)
            rows = []
            for line in r.stdout.splitlines():
                m = re.match(r"\s*([\d.]+)%\s+(.*\S)", line)
                if m:
                    what = re.sub(r"\s+", " ", m.group(2))
                    while re.search(r"<[^<>]*>", what):  # template arguments say little here
                        what = re.sub(r"<[^<>]*>", "", what)
                    rows.append({"share_pct": float(m.group(1)), "what": what})
            return rows[:limit]
        return {"by_symbol": report("dso,sym", 25), "by_dso": report("dso", 10), "by_thread": report("pid", 8)}

    # ---- the run -------------------------------------------------------------

    def run(self):
        a = self.args
        t0 = time.time()
        # Other work on the machine skews every figure: the benchmark's
        # processes (all children of this one) run at a higher priority when allowed.
        try:
            os.nice(-10)
            priority = "nice -10"
        except OSError:
            priority = "default"
        report = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": a.quick,
                  "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                              "loadavg_at_start": os.getloadavg()[0], "priority": priority},
                  "settings": {"partitions": a.partitions, "pipeline.max_in_flight": WINDOW, "pipeline.ordering": "key",
                               "http.max_connections by sim latency": CONNECTIONS, "sim --threads": SIM_THREADS,
                               "kafka.producer_properties": self.producer_properties,
                               "kafka.consumer_properties": self.consumer_properties,
                               "events": "transactional.sms.send, 1 recipient with 14 attributes, 1.0-2.0 KB "
                                         "(mean ~1.5 KB), 20000 distinct keys, traceparent header"}}
        self.start_broker()
        if a.variant:
            return self.run_variants(report)
        if a.ens_only:
            report["settings"] = {"partitions": a.partitions}
            self.run_ens(report)
            report["machine"]["loadavg_at_end"] = os.getloadavg()[0]
            report["seconds"] = round(time.time() - t0, 1)
            return report
        if a.redrive_only:
            report["settings"] = {"partitions": a.partitions}
            self.run_redrive(report)
            report["machine"]["loadavg_at_end"] = os.getloadavg()[0]
            report["seconds"] = round(time.time() - t0, 1)
            return report
        if a.coalesce_only or a.concurrency_only:
            # Only the sections' own settings (coalesce.settings, concurrency.settings) apply.
            for key in ("pipeline.max_in_flight", "pipeline.ordering", "http.max_connections by sim latency"):
                report["settings"].pop(key)
            if a.coalesce_only:
                self.run_coalesce(report)
            if a.concurrency_only:
                self.run_concurrency(report)
            report["machine"]["loadavg_at_end"] = os.getloadavg()[0]
            report["seconds"] = round(time.time() - t0, 1)
            return report
        main_n = a.main_events
        sizes = [10_000, 100_000] if a.quick else [10_000, 100_000, 1_000_000]
        if main_n not in sizes:
            sizes.append(main_n)
        inputs = {n: f"in-{n}" for n in sorted(sizes)}
        self.topics(*inputs.values())
        report["backlogs"] = {}
        for n, topic in inputs.items():
            r = self.produce(topic, n, f"ev{n}")
            report["backlogs"][n] = r
            log(f"produced {n} events to {topic}: {r['events_per_s']:.0f}/s")

        bodies = os.path.join(self.work, "bodies.txt")
        with open(bodies, "w") as f:
            subprocess.run([self.kafka_bench, "bodies", "--count", "2000", "--run", "wrk"], stdout=f,
                           stderr=subprocess.DEVNULL, check=True)

        log("1. Kafka limit: bare librdkafka pass-through")
        report["kafka_limit"] = self.kafka_limit(inputs[main_n], main_n)
        log(f"   {report['kafka_limit']['steady_events_per_s']:.0f} events/s")

        log("2. HTTP limit: wrk against sfmc-sim")
        report["http_limit"] = {}
        for lat in (0, 20):
            report["http_limit"][f"{lat}ms"] = self.http_limit(lat, bodies, a.wrk_seconds)
            log(f"   {lat} ms: {report['http_limit'][f'{lat}ms']['requests_per_s']:.0f} requests/s")

        log("3. sfmc-relay, backlog")
        report["relay"] = {}
        for lat in (0, 20):
            r = self.relay_backlog(inputs[main_n], main_n, lat, f"backlog-{lat}ms")
            report["relay"][f"{lat}ms"] = r
            log(f"   {lat} ms: {r['steady_events_per_s']:.0f} events/s, {r.get('cpu_s_per_10k')} CPU-s/10k, "
                f"VmHWM {r['vmhwm_mib']} MiB{' (STALLED after %d)' % r['read'] if r.get('stalled') else ' (TRUNCATED)' if r['truncated'] else ''}")

        log("3b. sfmc-relay, added latency at half the maximum rate")
        report["latency"] = {}
        for lat in (0, 20):
            rate = max(50.0, report["relay"][f"{lat}ms"]["steady_events_per_s"] / 2)
            r = self.relay_paced(lat, rate, a.paced_seconds, f"paced-{lat}ms")
            report["latency"][f"{lat}ms"] = r
            log(f"   {lat} ms at {rate:.0f}/s: added p50 {r.get('added_latency_ms', {}).get('p50')} "
                f"p99 {r.get('added_latency_ms', {}).get('p99')} ms")

        rate = report["latency"]["0ms"]["rate"]
        r = self.kafka_paced(rate, a.paced_seconds)
        report["latency"]["kafka_path_only"] = r
        log(f"   Kafka path alone at {rate}/s: p50 {r['latency_ms']['p50']} p99 {r['latency_ms']['p99']} ms")

        log("4. growth (sim at 0 ms)")
        report["growth"] = {}
        for n in sorted(sizes):
            if n == main_n:
                r = report["relay"]["0ms"]
            else:
                r = self.relay_backlog(inputs[n], n, 0, f"growth-{n}")
            report["growth"][n] = r
            log(f"   {n}: {r['steady_events_per_s']:.0f} events/s, {r.get('cpu_s_per_10k')} CPU-s/10k, "
                f"VmHWM {r['vmhwm_mib']} MiB{' (%s after %d)' % ('STALLED' if r.get('stalled') else 'TRUNCATED', r['read']) if r['truncated'] else ''}")

        held = min(sizes)
        r = self.relay_held_backlog(held, a.held_seconds, "held")
        report["growth_held"] = r
        log(f"   backlog held at <= {held} for {a.held_seconds:.0f} s ({r['events']} events): "
            f"{r.get('cpu_s_per_10k')} CPU-s/10k, VmHWM {r['vmhwm_mib']} MiB")

        log("5. profile (perf record, sim at 0 ms)")
        if shutil.which("perf") and subprocess.run(["perf", "stat", "-e", "cpu-clock", "true"],
                                                   capture_output=True).returncode == 0:
            data = os.path.join(self.work, "perf.data")
            n = a.profile_events
            r = self.relay_backlog(inputs[main_n], n, 0, "profile", perf=data)
            report["profile"] = {"tool": "perf record -F 999 -g (cpu-clock)", "events": n,
                                 "run": {k: r.get(k) for k in ("steady_events_per_s", "cpu_s", "cpu_utilisation")},
                                 **self.profile_report(data)}
        else:
            report["profile"] = {"error": "perf unavailable"}

        if a.coalesce:
            self.run_coalesce(report)
        if a.concurrency:
            self.run_concurrency(report)
        report["machine"]["loadavg_at_end"] = os.getloadavg()[0]
        report["seconds"] = round(time.time() - t0, 1)
        report["targets"] = self.targets(report)
        return report

    def run_variants(self, report):
        """The main backlog at 0 and 20 ms, for the defaults and each --variant,
        interleaved round by round so that drift on the machine hits all alike."""
        a = self.args
        variants = [("defaults", {})]
        for spec in a.variant:
            name, _, settings = spec.partition(":")
            changes = {}
            for kv in filter(None, settings.split(",")):
                key, _, value = kv.partition("=")
                if key == "bin":  # another sfmc-relay build, for comparing code
                    changes["bin"] = os.path.abspath(value)
                    continue
                side, _, prop = key.partition(".")
                if side not in ("consumer", "producer", "pipeline", "http", "log", "status") or not prop:
                    raise SystemExit(f"--variant {spec}: settings are consumer.PROPERTY=V, producer.PROPERTY=V, "
                                     "pipeline.KEY=JSON, http.KEY=JSON, status.KEY=JSON, log.level=V or bin=PATH "
                                     "(another sfmc-relay)")
                changes.setdefault(side, {})[prop] = value if side in ("consumer", "producer", "log") else json.loads(value)
            variants.append((name, changes))
        n = a.main_events
        topic = self.name("in-variants")
        self.topics(topic)
        self.produce(topic, n, "variants")
        runs = {}
        for round_ in range(a.rounds):
            for lat in (0, 20):
                for name, changes in variants:
                    self.overrides = changes
                    r = self.relay_backlog(topic, n, lat, f"{name}-{lat}ms-{round_}")
                    runs.setdefault(name, {}).setdefault(f"{lat}ms", []).append(r)
                    log(f"   round {round_ + 1}, {name}, {lat} ms: {r['steady_events_per_s']:.0f} events/s, "
                        f"{r.get('cpu_s_per_10k')} CPU-s/10k, VmHWM {r['vmhwm_mib']} MiB, "
                        f"co-located ratio {r.get('colocated_ratio')}")
        self.overrides = {}
        report["variants"] = [{"name": name, "changes": changes, "runs": runs[name]} for name, changes in variants]
        report["comparisons"] = compare(report["variants"], a.compare)
        report["machine"]["loadavg_at_end"] = os.getloadavg()[0]
        return report

    def default_window(self):
        """pipeline.max_in_flight when the configuration leaves it out, as
        this source tree's pipeline says (the daemon does not report it)."""
        try:
            with open(os.path.join(self.root, "lib", "pipeline", "relay.h")) as f:
                m = re.search(r"size_t max_in_flight = (\d+);", f.read())
            return int(m.group(1)) if m else None
        except OSError:
            return None

    def run_coalesce(self, report):
        """Issue 13: single-recipient SMS events with coalescing on (the
        daemon's defaults) and off, at 0, 20 and 200 ms and 64 connections.
        Backlog runs, interleaved on/off round by round; then paced runs at
        10 % load (the same rate for both: a tenth of what coalescing off
        carried) and at full load (each at its own measured rate)."""
        a = self.args
        saved = (self.pipeline_settings, self.connections, self.window, self.overrides)
        self.pipeline_settings = {}  # the daemon's window and coalescing defaults
        self.connections = {lat: COALESCE_CONNECTIONS for lat in COALESCE_LATENCIES}
        self.window = self.default_window() or 5000
        variants = [("on", {}), ("off", COALESCE_OFF)]
        n = a.coalesce_events
        # Coalescing off at 200 ms carries 64 / 0.2 s = 320 events/s: a
        # smaller backlog, so that run lasts about as long as the others.
        slow_n = a.coalesce_off_slow_events
        section = {"settings": {"pipeline.max_in_flight": f"daemon default ({self.window} in this tree)",
                                "pipeline.coalesce": "daemon defaults (on) / {enabled: false} (off)",
                                "http.max_connections": COALESCE_CONNECTIONS, "sim latencies ms": COALESCE_LATENCIES,
                                "backlog events": n, "backlog events, off at 200 ms": slow_n,
                                "rounds": a.coalesce_rounds, "paced seconds": a.paced_seconds,
                                "light load": "10 % of the rate coalescing off carried at that latency, for both; "
                                              "every round",
                                "full load": "each variant at the mean rate it carried; once"},
                   "runs": {}, "latency": {}}
        topics = {n: self.name("in-coalesce")}
        if slow_n != n:
            topics[slow_n] = self.name("in-coalesce")
        self.topics(*topics.values())
        for count, topic in topics.items():
            self.produce(topic, count, f"coalesce{count}")
        log(f"C. coalescing on/off, {COALESCE_CONNECTIONS} connections, window {self.window}, "
            f"{a.coalesce_rounds} round(s)")
        try:
            for round_ in range(a.coalesce_rounds):
                for lat in COALESCE_LATENCIES:
                    for name, changes in variants:
                        self.overrides = changes
                        count = slow_n if name == "off" and lat == 200 else n
                        r = self.relay_backlog(topics[count], count, lat, f"coalesce-{name}-{lat}ms-{round_}")
                        r["loadavg_at_end"] = os.getloadavg()[0]
                        section["runs"].setdefault(f"{lat}ms", {}).setdefault(name, []).append(r)
                        m = r.get("relay_metrics") or {}
                        log(f"   round {round_ + 1}, {lat} ms, coalescing {name}: {r['steady_events_per_s']:.0f} "
                            f"events/s, {r.get('sfmc_calls_per_event')} calls/event "
                            f"({m.get('recipients_per_call')} recipients/call), {r.get('cpu_s_per_10k')} CPU-s/10k, "
                            f"VmHWM {r['vmhwm_mib']} MiB{self.truncation(r)}")
            # 10 % load: a tail of a few events decides p99, and other work on
            # the machine makes tails, so these run every round, interleaved;
            # full load once, at the rounds' mean rate.
            rates = {}
            for lat in COALESCE_LATENCIES:
                runs = section["runs"][f"{lat}ms"]
                full = {name: mean([x["steady_events_per_s"] for x in runs[name]]) for name, _ in variants}
                rates[lat] = {"light": max(5.0, full["off"] / 10), "full": full}
            plan = [(round_, lat, name, "light") for round_ in range(a.coalesce_rounds)
                    for lat in COALESCE_LATENCIES for name, _ in variants]
            plan += [(0, lat, name, "full") for lat in COALESCE_LATENCIES for name, _ in variants]
            for round_, lat, name, load in plan:
                self.overrides = dict(variants)[name]
                rate = rates[lat]["light"] if load == "light" else rates[lat]["full"][name]
                # At least 1000 events, so that the p99 is not a handful of them
                # (at 200 ms the light rate is ~32/s: ~31 s).
                r = self.relay_paced(lat, rate, a.paced_seconds, f"coalesce-paced-{name}-{load}-{lat}ms-{round_}",
                                     min_events=1000 if load == "light" else 300)
                r["loadavg_at_end"] = os.getloadavg()[0]
                section["latency"].setdefault(f"{lat}ms", {}).setdefault(name, {}).setdefault(load, []).append(r)
                added = r.get("added_latency_ms", {})
                log(f"   {lat} ms, coalescing {name}, paced {r['rate']}/s ({load}): added p50 "
                    f"{added.get('p50')} p99 {added.get('p99')} ms, {r.get('sfmc_calls_per_event')} "
                    f"calls/event{self.truncation(r)}")
        finally:
            self.pipeline_settings, self.connections, self.window, self.overrides = saved
        section["summary"] = coalesce_summary(section)
        section["targets"] = coalesce_targets(section)
        report["coalesce"] = section
        return report

    # ---- the concurrency section (adaptive limiter) ---------------------------

    def sim_takes_capacity(self):
        """Whether this sfmc-sim has the capacity model (--capacity in its help)."""
        if self.sim_capacity is None:
            try:
                r = subprocess.run([self.sim, "--help"], capture_output=True, text=True, timeout=5)
                self.sim_capacity = "--capacity" in r.stdout + r.stderr
            except (OSError, subprocess.TimeoutExpired):
                self.sim_capacity = False
            if not self.sim_capacity:
                log("   sfmc-sim has no --capacity: the capacity cases run without a capacity (no refusals)")
        return self.sim_capacity

    def apply_schedule(self, url, admin, schedule, phase_s, collector):
        """Case 3: once the relay has published its first outcome (its
        sfmc_relay_outcomes_total, polled every 50 ms), PUT /_sim/faults with
        the capacity schedule (and the run's latency: a PUT replaces the whole
        document). The phases count from then."""
        metrics = f"http://127.0.0.1:{admin}/metrics"
        first_ms = None
        deadline = time.time() + 120
        while time.time() < deadline and collector.poll() is None:
            try:
                if metric_total(self.http(metrics)[1], "sfmc_relay_outcomes_total"):
                    first_ms = time.time() * 1000
                    break
            except Exception:
                pass
            time.sleep(0.05)
        doc = {"latency_ms": CONC_LATENCY,
               "capacity": [{"after_ms": int(i * phase_s * 1000), "calls": calls} for i, calls in enumerate(schedule)]}
        sent_ms = time.time() * 1000
        status, error = None, None
        try:
            status = self.http(url + "/_sim/faults", "PUT", json.dumps(doc).encode())[0]
        except urllib.error.HTTPError as e:
            status, error = e.code, e.read().decode(errors="replace")[:300]
        except Exception as e:
            error = str(e)[:300]
        applied_ms = time.time() * 1000
        if error:
            log(f"   PUT /_sim/faults with the capacity schedule: {status} {error}")
        return {"document": doc, "phase_s": phase_s, "first_outcome_ms": round(first_ms) if first_ms else None,
                "put_sent_ms": round(sent_ms),
                "applied_ms": round(applied_ms), "put_status": status, "put_error": error}

    def concurrency_run(self, topic, count, tag, relay_bin=None, capacity=None, schedule=None, kinds=False):
        """One backlog run of the concurrency section, the daemon started after
        the events: as relay_backlog, plus the simulator's /_sim/stats sampled
        every 250 ms (accepted and refused send calls over time), the limiter's
        gauges from /metrics (when the build has them) and, with `kinds`, each
        kind of event's outcomes apart. `capacity`: sfmc-sim --capacity;
        `schedule`: capacity phases PUT once the first outcome is out, the run
        ending after the last phase."""
        a = self.args
        self.overrides = {"bin": relay_bin} if relay_bin else {}
        out = self.name("out-" + tag)
        self.topics(out)
        extra, sim_error = [], None
        if (capacity is not None or schedule) and self.sim_takes_capacity():
            extra = ["--capacity", str(capacity if capacity is not None else schedule[0])]
        try:
            sim, url = self.start_sim(CONC_LATENCY, extra)
        except RuntimeError as e:
            if not extra:
                raise
            # A simulator whose capacity model is broken: the run goes on
            # without it (its capacity targets then say N/A), and says so.
            sim_error = f"sfmc-sim {' '.join(extra)}: {e}"[:300]
            log(f"   {sim_error}; running without a capacity")
            extra = []
            sim, url = self.start_sim(CONC_LATENCY)
        relay, start_ms, admin = self.start_relay(url, topic, out, tag, CONC_LATENCY)
        budget = Budget(sim=sim.pid, broker=self.broker_pid())
        sampler = Sampler(admin, self.window)
        sims = SimSampler(url)
        cap_s = a.concurrency_cap_s + (len(schedule) * a.concurrency_phase_s if schedule else 0)
        argv = [self.kafka_bench, "collect", "--bootstrap", self.bootstrap, "--topic", out, "--count", str(count),
                "--pid", str(relay.pid), "--start-ms", str(start_ms), "--timeout-s", str(cap_s),
                "--stall-s", str(STALL_S)] + (["--kinds", "1"] if kinds else [])
        collector = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sched = None
        sim_stats = {}
        frozen_stats = None  # the simulator's stats when a schedule run was stopped
        frozen = False
        try:
            if schedule:
                sched = self.apply_schedule(url, admin, schedule, a.concurrency_phase_s, collector)
                end = sched["applied_ms"] / 1000 + len(schedule) * a.concurrency_phase_s
                while time.time() < end and collector.poll() is None:
                    time.sleep(0.05)
                if collector.poll() is None:
                    # The schedule is over. The relay is frozen (SIGSTOP) so
                    # that its CPU, its outcomes and the simulator's counts
                    # all end here; collect then reads what is done.
                    os.kill(relay.pid, signal.SIGSTOP)
                    frozen = True
                    sched["stopped_ms"] = round(time.time() * 1000)
                    try:
                        frozen_stats = json.loads(self.http(url + "/_sim/stats")[1])
                    except Exception:
                        pass
                    collector.send_signal(signal.SIGUSR1)
            stdout, stderr = collector.communicate(timeout=cap_s + 300)
            if collector.returncode not in (0, 3):
                raise RuntimeError(f"kafka_bench collect failed ({collector.returncode}): {stderr.strip()[-800:]}")
            r = json.loads(stdout.strip().splitlines()[-1])
            r["threads"] = thread_cpu(relay.pid)
            r["budget"] = budget.finish(r.get("read", 0))
            try:
                # A frozen relay answers nothing: the sampler's last page then.
                text = sampler.last if frozen else self.http(f"http://127.0.0.1:{admin}/metrics")[1]
                r["relay_metrics"] = {**coalescing_metrics(text),
                                      "cooldowns": metric_total(text, "sfmc_relay_account_cooldowns_total")}
            except Exception:
                pass
        finally:
            if collector.poll() is None:
                collector.kill()
                collector.wait()
            sampler.finish()
            sims.finish()
            if frozen:  # no drain wanted (its events in flight would keep it busy): killed
                relay.kill()
                relay.wait()
                self.children.remove(relay)
                code = relay.returncode
            else:
                code = self.stop(relay)
            try:
                sim_stats = json.loads(self.http(url + "/_sim/stats")[1])
            except Exception:
                pass
            self.stop(sim)
            self.overrides = {}
        if frozen_stats:
            sim_stats = frozen_stats
        r.update(self.derive(r, CONC_LATENCY))
        if r.get("stalled"):  # not the burst before a stall: what got done in the time waited
            r["steady_events_per_s_of_done"] = r["steady_events_per_s"]
            r["steady_events_per_s"] = round(r["read"] / max(0.001, (r["done_ms"] - start_ms) / 1000), 1)
        if r.get("read"):
            r["cpu_s_per_1k"] = round(r["cpu_s"] / r["read"] * 1000, 3)
        r.update(self.colocated(r))
        r.update(self.calls_per_event(sim_stats, r))
        r["window"] = sampler.summary()
        r["concurrency"] = sampler.concurrency_summary(start_ms, r["done_ms"])
        accepted, refused, calls = send_counts(sim_stats)
        # Calls the simulator accepted per second over the outcomes' steady
        # span (the middle 90 % of them); without samples, over all outcomes.
        rate = sims.rate(r.get("steady_from_ms") or 0, r.get("steady_to_ms") or 0)
        if rate is None and r.get("last_ms", 0) > r.get("first_ms", 0):
            rate = accepted / ((r["last_ms"] - r["first_ms"]) / 1000)
        r.update({"events": count, "sim_latency_ms": CONC_LATENCY, "relay_exit": code, "sim_args": extra,
                  "sim_error": sim_error,
                  "sim_calls": {"accepted": accepted, "refused": refused, "all": calls},
                  "accepted_calls_per_s": round(rate, 1) if rate is not None else None,
                  "refused_share": round(refused / calls, 4) if calls else None,
                  "failed": (r.get("other_statuses") or {}).get("failed", 0),
                  "not_accepted": r.get("read", 0) - r.get("accepted", 0),
                  # The simulator's capacity model answers in its stats (calls,
                  # in_progress, peak_in_progress, refused); without it no
                  # capacity was in force.
                  "sim_capacity": sim_stats.get("capacity"),
                  "sim_capacity_model": "capacity" in sim_stats,
                  "sim_faults": sim_stats.get("faults"),
                  "sim_requests_by_route": sim_stats.get("requests")})
        if sched:
            r["schedule"] = sched
            r["schedule"]["phases"] = self.schedule_phases(sched, schedule, sims, sampler)
            r["schedule"]["accepted_calls_per_s_by_second"] = sims.per_second(sched["applied_ms"])
        return r

    @staticmethod
    def schedule_phases(sched, schedule, sims, sampler):
        """Per capacity phase starting at T: the accepted calls/s in [T+4 s,
        T+5 s] and the best 1-s rate within T..T+5 s against the phase's bound
        (calls / 0.2 s), the phase's mean after T+5 s, its refusals, and the
        limit the relay held at T+5 s (new builds)."""
        out = []
        phase_ms = sched["phase_s"] * 1000
        for i, calls in enumerate(schedule):
            t = sched["applied_ms"] + i * phase_ms
            bound = calls / (CONC_LATENCY / 1000)
            at45 = sims.rate(t + 4000, t + 5000)
            ones = [sims.rate(t + k * 250, t + k * 250 + 1000) for k in range(17)]
            ones = [x for x in ones if x is not None]
            best = max(ones) if ones else None
            later = sims.rate(t + 5000, t + phase_ms)
            calls_in = sims.rate(t, t + phase_ms, 3)
            refused_in = sims.rate(t, t + phase_ms, 2)
            out.append({"calls": calls, "starts_s": i * sched["phase_s"], "bound_calls_per_s": bound,
                        "accepted_per_s_4_5s": round(at45, 1) if at45 is not None else None,
                        "share_4_5s": round(at45 / bound, 3) if at45 is not None else None,
                        "best_1s_per_s_0_5s": round(best, 1) if best is not None else None,
                        "best_1s_share": round(best / bound, 3) if best is not None else None,
                        "accepted_per_s_after_5s": round(later, 1) if later is not None else None,
                        "refused_share": round(refused_in / calls_in, 4) if calls_in else None,
                        "limit_at_5s": sampler.limit_at(t + 5000),
                        "limit": sampler.concurrency_summary(t, t + phase_ms) or None})
        return out

    def run_concurrency(self, report):
        """The adaptive concurrency limiter: at 200 ms and 64 connections, on
        the daemon's defaults, each case with each build (--before-bin, then
        this tree's), interleaved, --concurrency-rounds times: unmergeable
        events alone; the same against a simulator capacity of 24 calls and a
        schedule of 24, 64 and 8; mergeable events; half of each."""
        a = self.args
        saved = (self.pipeline_settings, self.connections, self.window, self.overrides)
        self.pipeline_settings = {}  # the daemon's window and coalescing defaults
        self.connections = {CONC_LATENCY: CONC_CONNECTIONS}
        self.window = self.default_window() or 5000
        builds = ([("before", os.path.abspath(a.before_bin))] if a.before_bin else []) + [("after", None)]
        cases = [c for c in CONC_CASES if c in a.concurrency_cases]
        phase_s = a.concurrency_phase_s
        schedule_n = a.concurrency_schedule_events or int(
            1.25 * sum(calls / (CONC_LATENCY / 1000) * phase_s for calls in CONC_SCHEDULE))
        # (kind, events) per case and build: the before build (16 calls for
        # what cannot merge) gets smaller backlogs where it is slow.
        slow = a.concurrency_before_events
        plan = {"unmergeable": {"before": ("unique", slow), "after": ("unique", a.concurrency_unique_events)},
                "capacity": {"before": ("unique", slow), "after": ("unique", a.concurrency_capacity_events)},
                "schedule": {"before": ("unique", schedule_n), "after": ("unique", schedule_n)},
                "merged": {"before": ("merge", a.concurrency_merged_events),
                           "after": ("merge", a.concurrency_merged_events)},
                "mix": {"before": ("mix", a.concurrency_mix_events), "after": ("mix", a.concurrency_mix_events)}}
        topics = {}
        for case in cases:
            for build, _ in builds:
                topics.setdefault(plan[case][build], None)
        for (kind, n) in topics:
            topics[(kind, n)] = self.name(f"in-conc-{kind}")
        # The mix on twice the partitions: each kind on as many partitions of
        # its own as it has alone (as two topics of an instance would be).
        for mix in (False, True):
            chosen = [t for (kind, _), t in topics.items() if (kind == "mix") == mix]
            if chosen:
                self.topics(*chosen, partitions=a.concurrency_mix_partitions if mix else None)
        for (kind, n), topic in topics.items():
            r = self.produce(topic, n, f"conc{kind}{n}", kind=kind)
            log(f"   produced {n} {kind} events to {topic}: {r.get('events_per_s', 0):.0f}/s")
        section = {"settings": {"sim latency ms": CONC_LATENCY, "http.max_connections": CONC_CONNECTIONS,
                                "pipeline.max_in_flight": f"daemon default ({self.window} in this tree)",
                                "pipeline.coalesce": "daemon defaults (on)",
                                "http.concurrency": "not written: the daemon's default (adaptive in builds that "
                                                    "have it; the before build has no such key)",
                                "builds": {name: path or self.relay for name, path in builds},
                                "cases": cases, "rounds": a.concurrency_rounds,
                                "events": {case: {build: {"kind": plan[case][build][0], "events": plan[case][build][1]}
                                                  for build, _ in builds} for case in cases},
                                "capacity": CONC_CAPACITY, "schedule": list(CONC_SCHEDULE), "phase s": phase_s,
                                "partitions": a.partitions, "mix partitions": a.concurrency_mix_partitions,
                                "time cap s": a.concurrency_cap_s,
                                "sim capacity model": self.sim_takes_capacity()},
                   "runs": {}}
        log(f"K. concurrency: {CONC_CONNECTIONS} connections, sim {CONC_LATENCY} ms, window {self.window}, "
            f"builds {', '.join(b for b, _ in builds)}, {a.concurrency_rounds} round(s)")
        try:
            for round_ in range(a.concurrency_rounds):
                for case in cases:
                    for build, path in builds:
                        kind, n = plan[case][build]
                        r = self.concurrency_run(topics[(kind, n)], n, f"conc-{case}-{build}-{round_}", relay_bin=path,
                                                 capacity=CONC_CAPACITY if case == "capacity" else None,
                                                 schedule=CONC_SCHEDULE if case == "schedule" else None,
                                                 kinds=case == "mix")
                        r["loadavg_at_end"] = os.getloadavg()[0]
                        section["runs"].setdefault(case, {}).setdefault(build, []).append(r)
                        log(f"   round {round_ + 1}, {case}, {build}: {conc_run_text(case, r)}")
        finally:
            self.pipeline_settings, self.connections, self.window, self.overrides = saved
        section["summary"] = concurrency_summary(section)
        section["targets"] = concurrency_targets(section)
        report["concurrency"] = section
        return report

    ENS_EVENT = ('{"eventCategoryType":"TransactionalSendEvents.SmsDelivered","timestampUTC":%d,"compositeId":"c.%d",'
                 '"definitionKey":"order-shipped","mid":"1234","info":{"messageKey":"ens-%d-%d","to":"15555550100",'
                 '"subscriberKey":"c-%d"}}')

    def ens_load(self, port, key, seconds, senders, batch, stop=None, rate=None):
        """ENS as SFMC runs it: `senders` connections each POSTing signed
        batches of `batch` new events for `seconds`, at full speed or, with
        `rate`, paced to that many events a second in all. Returns the
        answers' (status, seconds), the load's own CPU seconds and the wall time."""
        secret = base64.b64decode(key)
        numbers = itertools.count()
        answers, lock = [], threading.Lock()
        deadline = time.time() + seconds
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)

        def sender(first):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            interval = senders * batch / rate if rate else 0
            slot = time.time() + first * interval / senders
            while time.time() < deadline and not (stop and stop.is_set()):
                if rate:
                    time.sleep(max(0.0, slot - time.time()))
                    slot += interval
                n, ts = next(numbers), int(time.time() * 1000)
                body = ("[" + ",".join(self.ENS_EVENT % (ts, i, n, i, i) for i in range(batch)) + "]").encode()
                signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
                t = time.perf_counter()
                conn.request("POST", "/sfmc/ens", body, {"x-sfmc-ens-signature": signature,
                                                         "Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                with lock:
                    answers.append((r.status, time.perf_counter() - t))

        threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        load_cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
        return answers, load_cpu, time.time() - t0

    @staticmethod
    def answer_times(answers):
        times = sorted(t for status, t in answers if status == 200)
        if not times:
            return {}
        pick = lambda q: round(times[min(len(times) - 1, int(q * len(times)))] * 1000, 1)
        return {"p50_ms": pick(0.50), "p90_ms": pick(0.90), "p99_ms": pick(0.99), "max_ms": round(times[-1] * 1000, 1)}

    def run_ens(self, report):
        """The ENS receiver: signed batches of 1,000 events at full speed
        from --ens-senders connections (the relay idle otherwise), with the
        answer-time distribution and CPU; then the send path's events/s on a
        merged backlog at 0 ms alone and with that ENS load beside it in the
        same process, in one run."""
        a = self.args
        key = base64.b64encode(os.urandom(32)).decode()
        key_file = os.path.join(self.work, "ens-key")
        with open(key_file, "w") as f:
            f.write(key)
        sim, url = self.start_sim(0)
        runs = {}

        def relay_with_ens(tag, input_topic):
            out, deliveries = self.name("out-" + tag), self.name("ens-" + tag)
            self.topics(out, deliveries)
            port = self.free_port()
            p, start_ms, admin = self.start_relay(url, input_topic, out, tag, 0, extra={
                "ens": {"listen": f"127.0.0.1:{port}", "topic": deliveries, "signature_keys": [{"file": key_file}]}})
            return p, start_ms, admin, port, out

        def sends(tag, load):
            topic = self.name("in-" + tag)
            self.topics(topic)
            self.produce(topic, a.ens_backlog, tag)
            p, start_ms, admin, port, out = relay_with_ens(tag, topic)
            stop, box = threading.Event(), {}
            if load:
                self.wait_ready(admin, p)
                loader = threading.Thread(target=lambda: box.update(
                    zip(("answers", "cpu", "wall"), self.ens_load(port, key, 1e9, a.ens_senders, 1000, stop))))
                loader.start()
            r = self.tool("collect", "--bootstrap", self.bootstrap, "--topic", out, "--count", a.ens_backlog,
                          "--pid", p.pid, "--start-ms", start_ms, "--timeout-s", self.args.cap_s, "--stall-s", STALL_S)
            if load:
                stop.set()
                loader.join()
                ok = sum(1 for status, _ in box["answers"] if status == 200)
                r["ens_events_per_s_beside"] = round(ok * 1000 / box["wall"])
            self.stop(p)
            return {"sends_events_per_s": round(r.get("steady_events_per_s", 0)), **(
                {"ens_events_per_s_beside": r["ens_events_per_s_beside"]} if load else {})}

        # 1. ENS alone, on an idle relay.
        topic = self.name("in-idle")
        self.topics(topic)
        p, _, admin, port, _ = relay_with_ens("ens", topic)
        self.wait_ready(admin, p)
        for round_ in range(a.ens_rounds):
            budget = Budget(relay=p.pid, broker=self.broker_pid())
            answers, load_cpu, wall = self.ens_load(port, key, a.ens_seconds, a.ens_senders, 1000)
            ok = sum(1 for status, _ in answers if status == 200)
            events = ok * 1000
            x = {"posts": len(answers), "answered_200": ok, "events_per_s": round(events / wall),
                 **self.answer_times(answers), **budget.finish(events),
                 "load_cpu_s_per_10k": round(load_cpu / max(1, events) * 1e4, 3)}
            per10k = x["relay_cpu_s_per_10k"] + x["broker_cpu_s_per_10k"] + x["load_cpu_s_per_10k"]
            x["colocated_bound_events_per_s"] = round(os.cpu_count() * 1e4 / per10k) if per10k else None
            x["colocated_ratio"] = round(x["events_per_s"] / x["colocated_bound_events_per_s"], 3) if per10k else None
            runs.setdefault("ens_alone", []).append(x)
            log(f"E. round {round_ + 1}, ENS alone: {x['events_per_s']} events/s ({ok}/{len(answers)} POSTs 200), "
                f"answer p50 {x.get('p50_ms')} p90 {x.get('p90_ms')} p99 {x.get('p99_ms')} max {x.get('max_ms')} ms, "
                f"relay {x['relay_cpu_s_per_10k']} CPU-s/10k, broker {x['broker_cpu_s_per_10k']}, "
                f"load {x['load_cpu_s_per_10k']}, {x['colocated_ratio']} of the co-located bound")
        # At a steady rate: the answer times ENS meets there.
        budget = Budget(relay=p.pid, broker=self.broker_pid())
        answers, load_cpu, wall = self.ens_load(port, key, a.ens_seconds, a.ens_senders, 1000, rate=a.ens_rate)
        ok = sum(1 for status, _ in answers if status == 200)
        x = {"rate": a.ens_rate, "posts": len(answers), "answered_200": ok, "events_per_s": round(ok * 1000 / wall),
             **self.answer_times(answers), **budget.finish(ok * 1000)}
        runs["ens_paced"] = x
        log(f"E. ENS paced at {a.ens_rate}/s: {x['events_per_s']} events/s ({ok}/{len(answers)} POSTs 200), answer "
            f"p50 {x.get('p50_ms')} p90 {x.get('p90_ms')} p99 {x.get('p99_ms')} max {x.get('max_ms')} ms, relay "
            f"{x['relay_cpu_s_per_10k']} CPU-s/10k")
        self.stop(p)
        # 2. The send path alone, and with ENS busy in the same process.
        for round_ in range(a.ens_rounds):
            for load in (False, True):
                x = sends(f"sends-{'ens' if load else 'alone'}-{round_}", load)
                runs.setdefault("sends_with_ens" if load else "sends_alone", []).append(x)
                log(f"E. round {round_ + 1}, sends {'with ENS busy' if load else 'alone'} (0 ms, merged backlog "
                    f"{a.ens_backlog}): {x}")
        self.stop(sim)
        report["ens"] = {"settings": {"senders": a.ens_senders, "batch": 1000, "seconds": a.ens_seconds,
                                      "backlog": a.ens_backlog, "rounds": a.ens_rounds}, "runs": runs}
        return report

    def run_redrive(self, report):
        """`sfmc-relay redrive`: a dead-letter topic of --redrive-events
        letters (failed, 50200; the benchmark's 1.0-2.0 KB events) published
        to a topic of its own, each round with a new group (so the whole
        topic again), the redrive's CPU from its rusage, the broker's beside it."""
        a = self.args
        n = a.redrive_events
        letters, source = self.name("dead-letters"), self.name("in-redrive")
        self.topics(letters, source)
        r = self.tool("produce", "--bootstrap", self.bootstrap, "--topic", letters, "--count", n, "--run", "redrive",
                      "--dead-letters", source)
        log(f"R. redrive: {n} dead letters in {letters} ({a.partitions} partitions), produced at "
            f"{r.get('events_per_s', 0):.0f}/s")
        config = self.relay_config("http://127.0.0.1:9", self.name("g"), source, self.name("out"), 0, 0)
        config["kafka"]["dead_letter_topic"] = letters
        path = os.path.join(self.work, "redrive.json")
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
        env = dict(os.environ, SFMC_BENCH_SECRET="sim-secret")
        runs = []
        for round_ in range(a.redrive_rounds):
            target, group = self.name("redriven"), self.name("redrive")
            self.topics(target)
            broker, broker0, t0 = self.broker_pid(), proc_cpu(self.broker_pid()), time.time()
            p = subprocess.Popen([self.relay, "redrive", "--config", path, "--to", target, "--group", group],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            out = p.stdout.read()
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.time() - t0
            broker_cpu = proc_cpu(broker) - broker0
            m = re.search(r"published ([\d,]+) of ([\d,]+) dead letters .* in ([\d.]+) s \(([\d,]+) records/s\)", out)
            if p.returncode != 0 or not m:
                raise RuntimeError(f"redrive failed ({p.returncode}): {out[-800:]}")
            published = int(m.group(1).replace(",", ""))
            cpu = usage.ru_utime + usage.ru_stime
            x = {"records": n, "published": published, "wall_s": round(wall, 2),
                 "records_per_s": round(n / wall), "records_per_s_reported": int(m.group(4).replace(",", "")),
                 "redrive_cpu_s_per_10k": round(cpu / n * 1e4, 3), "broker_cpu_s_per_10k": round(broker_cpu / n * 1e4, 3),
                 "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}
            bound = os.cpu_count() * 1e4 / (x["redrive_cpu_s_per_10k"] + x["broker_cpu_s_per_10k"])
            x["colocated_bound_records_per_s"] = round(bound)
            x["colocated_ratio"] = round(x["records_per_s"] / bound, 3)
            runs.append(x)
            log(f"   round {round_ + 1}: {x['records_per_s']} records/s ({x['wall_s']} s, process start included), "
                f"redrive {x['redrive_cpu_s_per_10k']} CPU-s/10k, broker {x['broker_cpu_s_per_10k']}, "
                f"{x['colocated_ratio']:.0%} of the co-located bound")
        report["redrive"] = {"settings": {"records": n, "partitions": a.partitions, "rounds": a.redrive_rounds,
                                          "transaction": "the daemon's: 5,000 records or 1 s"},
                             "runs": runs}
        return report

    @staticmethod
    def truncation(r):
        if not r.get("truncated"):
            return ""
        return f" ({'STALLED' if r.get('stalled') else 'TRUNCATED'} after {r.get('read')} of {r.get('events')})"

    @staticmethod
    def targets(r):
        kafka = r["kafka_limit"]["steady_events_per_s"]
        http0 = r["http_limit"]["0ms"]["requests_per_s"]
        relay0 = r["relay"]["0ms"]["steady_events_per_s"]
        relay20 = r["relay"]["20ms"]["steady_events_per_s"]
        limit = min(kafka, http0)
        cpu = r["relay"]["0ms"].get("cpu_s_per_10k", 99)
        t = []

        def add(name, value, target, ok):
            t.append({"target": name, "value": value, "goal": target, "result": "PASS" if ok else "MISS"})
        add("relay / min(Kafka, HTTP) at 0 ms", round(relay0 / limit, 3), ">= 0.70", relay0 / limit >= 0.70)
        ratio = r["relay"]["0ms"].get("colocated_ratio", 0)
        add("relay / co-located bound at 0 ms", ratio, ">= 0.80", ratio >= 0.80)
        add("relay events/s at 0 ms", round(relay0), ">= 15000", relay0 >= 15000)
        add("relay events/s at 20 ms", round(relay20), ">= 10000", relay20 >= 10000)
        for lat in ("0ms", "20ms"):
            x = r["latency"][lat]
            p99 = x.get("added_latency_ms", {}).get("p99", 1e9)
            label = f"added latency p99 at half rate, sim {lat}"
            if x.get("truncated"):
                add(label, f"{p99} (only {x['read']}/{x['events']} done)", "<= 5 ms", False)
            else:
                add(label, p99, "<= 5 ms", p99 <= 5)
        add("CPU-seconds per 10,000 events (0 ms)", cpu, "<= 0.42", cpu <= 0.42)
        # Issue 18: no partition waits for the others' backlog.
        for lat in ("0ms", "20ms"):
            f = r["relay"][lat].get("fairness") or {}
            first, (lo, hi) = f.get("latest_first_pct", 100), f.get("p50_vs_all", [0, 99])
            add(f"every partition's first outcome, sim {lat} (% of run)", first, "<= 10", first <= 10)
            add(f"partition median latency vs all, sim {lat}", f"{lo}-{hi}x", "within 0.5-2x", lo >= 0.5 and hi <= 2)
        add("peak RSS with 1000 in flight (0 ms, MiB)", r["relay"]["0ms"]["vmhwm_mib"], "<= 64",
            r["relay"]["0ms"]["vmhwm_mib"] <= 64)
        # Flat: the peak at the largest backlog within 10 % of the peak at the
        # smallest (issue 5: 10k vs 1M events), over runs of about the same
        # length: a peak is a maximum, and a longer run meets higher ones.
        # The single 10k burst (a few seconds) is shown beside it.
        sizes = sorted(r["growth"], key=int)
        by_size = {str(n): g["vmhwm_mib"] for n, g in r["growth"].items()}
        smallest, largest = by_size[str(sizes[0])], by_size[str(sizes[-1])]
        held = r["growth_held"]["vmhwm_mib"]
        add(f"peak RSS flat: {sizes[-1]} backlog vs {sizes[0]} held for {r['growth_held']['seconds']:.0f} s (MiB)",
            f"{held}->{largest}", "<= +10 %, <= 64", largest <= 1.1 * held and largest <= 64)
        t.append({"target": f"peak RSS: {sizes[-1]} backlog vs {sizes[0]} as one burst (MiB)",
                  "value": f"{smallest}->{largest}", "goal": "none: the burst lasts a few seconds", "result": "INFO"})
        return t


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def coalesce_summary(section):
    """Per latency and variant: the rounds' mean of each figure."""
    out = {}
    for lat, by_variant in section["runs"].items():
        for name, runs in by_variant.items():
            paced = section["latency"].get(lat, {}).get(name, {})

            def added(load, p):
                v = mean([x.get("added_latency_ms", {}).get(p) for x in paced.get(load) or []])
                return round(v, 1) if v is not None else None

            def first(load, key):
                return ((paced.get(load) or [{}])[0]).get(key)

            def any_truncated(load):
                return any(x.get("truncated") for x in paced.get(load) or [])

            def m(key):
                v = mean([x.get(key) for x in runs])
                return round(v, 4) if v is not None else None
            out.setdefault(lat, {})[name] = {
                "events": runs[0]["events"], "rounds": len(runs),
                "truncated_runs": sum(1 for x in runs if x.get("truncated")),
                "events_per_s": m("steady_events_per_s"),
                "events_per_s_range": [min(x["steady_events_per_s"] for x in runs),
                                       max(x["steady_events_per_s"] for x in runs)],
                "sfmc_calls_per_event": m("sfmc_calls_per_event"),
                "recipients_per_call": mean([(x.get("relay_metrics") or {}).get("recipients_per_call") for x in runs]),
                "cpu_s_per_10k": m("cpu_s_per_10k"), "vmhwm_mib": m("vmhwm_mib"),
                "in_flight_mean": mean([(x.get("window") or {}).get("in_flight_mean") for x in runs]),
                "window_mean": mean([(x.get("window") or {}).get("window_mean") for x in runs]),
                "share_window_full": mean([(x.get("window") or {}).get("share_window_full") for x in runs]),
                "colocated_bound_events_per_s": m("colocated_bound_events_per_s"),
                "colocated_ratio": m("colocated_ratio"),
                "light_rate": first("light", "rate"),
                "light_added_p50_ms": added("light", "p50"), "light_added_p99_ms": added("light", "p99"),
                "light_added_p99_ms_each": [x.get("added_latency_ms", {}).get("p99") for x in paced.get("light") or []],
                "light_sfmc_calls_per_event": mean([x.get("sfmc_calls_per_event") for x in paced.get("light") or []]),
                "light_truncated": any_truncated("light"),
                "full_rate": first("full", "rate"),
                "full_produced_events_per_s": first("full", "produced_events_per_s"),
                "full_added_p50_ms": added("full", "p50"), "full_added_p99_ms": added("full", "p99"),
                "full_sfmc_calls_per_event": first("full", "sfmc_calls_per_event"),
                "full_truncated": any_truncated("full"),
            }
    return out


def coalesce_targets(section):
    """Issue 13's done-when, on the rounds' means."""
    s = section["summary"]
    t = []

    def add(name, value, goal, ok):
        t.append({"target": name, "value": value, "goal": goal, "result": "PASS" if ok else "MISS"})
    on200 = s.get("200ms", {}).get("on", {})
    rate, calls = on200.get("events_per_s") or 0, on200.get("sfmc_calls_per_event")
    add("coalescing on, 200 ms, 64 conns: events/s", round(rate), ">= 10000", rate >= 10000)
    add("coalescing on, 200 ms, 64 conns: SFMC calls/event", calls, "<= 0.02", calls is not None and calls <= 0.02)
    on0, off0 = s.get("0ms", {}).get("on", {}), s.get("0ms", {}).get("off", {})
    ratio = (on0.get("events_per_s") or 0) / max(1, off0.get("events_per_s") or 0)
    add("0 ms: events/s on / off", round(ratio, 2), ">= 1.5", ratio >= 1.5)
    cpu = (on0.get("cpu_s_per_10k") or 99) / max(0.001, off0.get("cpu_s_per_10k") or 0.001)
    add("0 ms: CPU-s/10k on / off", round(cpu, 2), "<= 0.5", cpu <= 0.5)
    for lat in s:
        on, off = s[lat].get("on", {}), s[lat].get("off", {})
        p_on, p_off = on.get("light_added_p99_ms"), off.get("light_added_p99_ms")
        label = f"10 % load ({on.get('light_rate')}/s), {lat}: added p99 on - off (ms)"
        if p_on is None or p_off is None or on.get("light_truncated") or off.get("light_truncated"):
            add(label, f"{p_on} vs {p_off} (incomplete)", "<= 5", False)
        else:
            add(label, round(p_on - p_off, 1), "<= 5", p_on - p_off <= 5)
    return t


def coalesce_table(c):
    lines = [f"coalescing (issue 13): {c['settings']['http.max_connections']} connections, window "
             f"{c['settings']['pipeline.max_in_flight']}, {c['settings']['rounds']} round(s), means shown "
             f"(events/s range in brackets)",
             f"{'sim':>5} {'coal.':>5} {'events':>7} {'events/s':>20} {'calls/ev':>9} {'rcpt/call':>9} "
             f"{'CPU-s/10k':>9} {'VmHWM':>6} {'win full':>8} {'co-loc bound':>12} {'ratio':>5} "
             f"{'10% load: /s':>12} {'p50/p99':>11} {'full: /s':>9} {'p50/p99':>11}"]

    def num(v, fmt):
        return fmt.format(v) if v is not None else "?"

    def lat(x, load):
        p50, p99 = x.get(f"{load}_added_p50_ms"), x.get(f"{load}_added_p99_ms")
        text = f"{num(p50, '{:.0f}')}/{num(p99, '{:.0f}')}"
        return text + ("!" if x.get(f"{load}_truncated") else "")
    for lat_name, by_variant in c["summary"].items():
        for name, x in by_variant.items():
            lo, hi = x["events_per_s_range"]
            rate = f"{x['events_per_s']:.0f} [{lo:.0f}-{hi:.0f}]" + ("!" if x["truncated_runs"] else "")
            lines.append(f"{lat_name:>5} {name:>5} {x['events']:>7} {rate:>20} "
                         f"{num(x['sfmc_calls_per_event'], '{:.4f}'):>9} {num(x['recipients_per_call'], '{:.1f}'):>9} "
                         f"{num(x['cpu_s_per_10k'], '{:.3f}'):>9} {num(x['vmhwm_mib'], '{:.1f}'):>6} "
                         f"{num(x['share_window_full'], '{:.0%}'):>8} "
                         f"{num(x['colocated_bound_events_per_s'], '{:.0f}'):>12} {num(x['colocated_ratio'], '{:.2f}'):>5} "
                         f"{num(x['light_rate'], '{}'):>12} {lat(x, 'light'):>11} {num(x['full_rate'], '{}'):>9} "
                         f"{lat(x, 'full'):>11}")
    lines.append("  latencies are added ms (end to end minus the simulator's latency) in paced runs, 10 % load "
                 "the rounds' mean; win full: share of /metrics samples with the window full (backlog runs); rcpt/call: "
                 "sfmc_relay_batch_recipients (not observed with coalescing off); "
                 "! = a run stopped before all its events were done")
    for lat_name, by_variant in c["summary"].items():
        lines.append(f"  {lat_name} 10 % load p99 by round: " + "; ".join(
            f"{name} {x['light_added_p99_ms_each']}" for name, x in by_variant.items()))
    lines.append("")
    for t in c["targets"]:
        lines.append(f"{t['result']:5} {t['target']:58} {str(t['value']):>16}  (goal {t['goal']})")
    return "\n".join(lines)


def conc_run_text(case, r):
    """One run of the concurrency section, in a line (for the log)."""
    c = r.get("concurrency") or {}
    text = (f"{r['steady_events_per_s']:.0f} events/s, {r.get('sfmc_calls_per_event')} calls/event, "
            f"{r.get('accepted_calls_per_s')} accepted calls/s, refused {pct(r.get('refused_share'))}, "
            f"{r.get('not_accepted')} not accepted ({r.get('failed')} failed), {r.get('cpu_s_per_1k')} CPU-s/1k, "
            f"co-located ratio {r.get('colocated_ratio')}")
    if c:
        text += f", limit mean {c.get('limit_mean')} last {c.get('limit_last')}"
    if r.get("sim_capacity"):
        text += f", sim peak in progress {r['sim_capacity'].get('peak_in_progress')}"
    if case == "mix":
        kinds = r.get("kinds") or {}
        text += "; " + ", ".join(f"{k} {(kinds.get(k) or {}).get('steady_events_per_s')}/s" for k in ("merge", "unique"))
    if r.get("schedule"):
        text += "; phases at T+4-5 s: " + ", ".join(
            f"{p['calls']}: {p['accepted_per_s_4_5s']}/s ({pct(p['share_4_5s'], 0)})" for p in r["schedule"]["phases"])
    if r.get("truncated"):
        text += f" ({'STALLED' if r.get('stalled') else 'STOPPED' if r.get('stopped') else 'TRUNCATED'} " \
                f"after {r.get('read')} of {r.get('events')})"
    return text


def pct(v, digits=1):
    return f"{v * 100:.{digits}f} %" if v is not None else "?"


def concurrency_summary(section):
    """Per case and build: the rounds' mean of each figure; the mix's kinds
    against the same build's unmergeable and merged cases."""
    out = {}
    for case, by_build in section["runs"].items():
        for build, runs in by_build.items():
            def m(get, digits=4):
                v = mean([get(x) for x in runs])
                return round(v, digits) if v is not None else None

            def per_1k(x, key):
                v = (x.get("budget") or {}).get(key)
                return v / 10 if v is not None else None
            rates = [x["steady_events_per_s"] for x in runs]
            s = {"events": runs[0]["events"], "rounds": len(runs),
                 "truncated_runs": sum(1 for x in runs if x.get("truncated") and not x.get("stopped")),
                 "events_per_s": m(lambda x: x.get("steady_events_per_s"), 1),
                 "events_per_s_range": [min(rates), max(rates)],
                 "sfmc_calls_per_event": m(lambda x: x.get("sfmc_calls_per_event")),
                 "accepted_calls_per_s": m(lambda x: x.get("accepted_calls_per_s"), 1),
                 "refused_share": m(lambda x: x.get("refused_share")),
                 "read": sum(x.get("read", 0) for x in runs),
                 "failed": sum(x.get("failed", 0) for x in runs),
                 "not_accepted": sum(x.get("not_accepted", 0) for x in runs),
                 "cpu_s_per_1k": m(lambda x: x.get("cpu_s_per_1k"), 3),
                 "sim_cpu_s_per_1k": m(lambda x: per_1k(x, "sim_cpu_s_per_10k"), 3),
                 "broker_cpu_s_per_1k": m(lambda x: per_1k(x, "broker_cpu_s_per_10k"), 3),
                 "colocated_bound_events_per_s": m(lambda x: x.get("colocated_bound_events_per_s"), 0),
                 "colocated_ratio": m(lambda x: x.get("colocated_ratio")),
                 "vmhwm_mib": m(lambda x: x.get("vmhwm_mib"), 1),
                 "limit_mean": m(lambda x: (x.get("concurrency") or {}).get("limit_mean"), 1),
                 "limit_last": m(lambda x: (x.get("concurrency") or {}).get("limit_last"), 1),
                 "calls_in_flight_mean": m(lambda x: (x.get("concurrency") or {}).get("calls_in_flight_mean"), 1),
                 "sim_capacity_model": all(x.get("sim_capacity_model") for x in runs),
                 "sim_peak_in_progress": m(lambda x: (x.get("sim_capacity") or {}).get("peak_in_progress"), 1)}
            if case == "mix":
                for kind in ("merge", "unique"):
                    s[f"{kind}_events_per_s"] = m(
                        lambda x, k=kind: ((x.get("kinds") or {}).get(k) or {}).get("steady_events_per_s"), 1)
                    s[f"{kind}_not_accepted"] = sum(
                        sum(n for status, n in (((x.get("kinds") or {}).get(kind) or {}).get("statuses") or {}).items()
                            if status != "accepted") for x in runs)
            if case == "schedule":
                for i in range(len(CONC_SCHEDULE)):
                    def ph(key, i=i):
                        return lambda x: ((x.get("schedule") or {}).get("phases") or [{}] * (i + 1))[i].get(key)
                    s[f"phase{i}_accepted_per_s_4_5s"] = m(ph("accepted_per_s_4_5s"), 1)
                    s[f"phase{i}_share_4_5s"] = m(ph("share_4_5s"), 3)
                    s[f"phase{i}_best_1s_share"] = m(ph("best_1s_share"), 3)
                    s[f"phase{i}_accepted_per_s_after_5s"] = m(ph("accepted_per_s_after_5s"), 1)
                    s[f"phase{i}_limit_at_5s"] = m(ph("limit_at_5s"), 1)
            out.setdefault(case, {})[build] = s
    for build, s in out.get("mix", {}).items():
        for kind, alone_case in (("merge", "merged"), ("unique", "unmergeable")):
            alone = out.get(alone_case, {}).get(build, {}).get("events_per_s")
            mine = s.get(f"{kind}_events_per_s")
            s[f"{kind}_alone_events_per_s"] = alone
            s[f"{kind}_vs_alone"] = round(mine / alone, 3) if mine is not None and alone else None
    return out


def concurrency_targets(section):
    """The issue's done-when, per build, on the rounds' means. The capacity
    cases are N/A when the simulator had no capacity model."""
    s = section["summary"]
    t = []

    def add(build, name, value, goal, ok, na=False):
        t.append({"build": build, "target": name, "value": value, "goal": goal,
                  "result": "N/A" if na else "PASS" if ok else "MISS"})
    for build in section["settings"]["builds"]:
        x = s.get("unmergeable", {}).get(build)
        if x:
            rate = x["events_per_s"] or 0
            add(build, "unmergeable: events/s", round(rate), ">= 272 (85 % of 64/0.2 s)", rate >= 272)
        x = s.get("capacity", {}).get(build)
        if x:
            na = not x["sim_capacity_model"]
            acc, refused = x["accepted_calls_per_s"], x["refused_share"]
            add(build, f"capacity {CONC_CAPACITY}: accepted calls/s", acc, ">= 102 (85 % of 24/0.2 s)",
                acc is not None and acc >= 102, na)
            add(build, f"capacity {CONC_CAPACITY}: send calls refused (429)", pct(refused), "<= 3 %",
                refused is not None and refused <= 0.03, na)
            add(build, f"capacity {CONC_CAPACITY}: outcomes failed", x["failed"], "0", x["failed"] == 0 and x["read"] > 0, na)
        x = s.get("schedule", {}).get(build)
        if x:
            na = not x["sim_capacity_model"]
            for i, calls in enumerate(CONC_SCHEDULE):
                share = x.get(f"phase{i}_share_4_5s")
                label = f"{CONC_SCHEDULE[i - 1]}->{calls}" if i else f"start at {calls}"
                add(build, f"schedule, {label} calls: accepted at T+4-5 s / bound", share, ">= 0.70",
                    share is not None and share >= 0.70, na)
            refused = x["refused_share"]
            add(build, "schedule: send calls refused (429) over the run", pct(refused), "<= 5 %",
                refused is not None and refused <= 0.05, na)
            add(build, "schedule: outcomes not accepted", x["not_accepted"], "0",
                x["not_accepted"] == 0 and x["read"] > 0)
        x = s.get("merged", {}).get(build)
        if x:
            rate, calls = x["events_per_s"] or 0, x["sfmc_calls_per_event"]
            add(build, "merged: events/s", round(rate), ">= 10000", rate >= 10000)
            add(build, "merged: SFMC calls/event", calls, "<= 0.02", calls is not None and calls <= 0.02)
        x = s.get("mix", {}).get(build)
        if x:
            for kind in ("merge", "unique"):
                ratio = x.get(f"{kind}_vs_alone")
                add(build, f"mix 50/50: {kind} events/s / alone", ratio, ">= 0.80", ratio is not None and ratio >= 0.80)
    return t


def concurrency_table(c):
    st = c["settings"]
    lines = [f"concurrency (adaptive limiter): sim {st['sim latency ms']} ms, {st['http.max_connections']} connections, "
             f"window {st['pipeline.max_in_flight']}, {st['rounds']} round(s), means shown (events/s range in brackets)",
             f"{'case':12} {'build':6} {'events':>7} {'events/s':>18} {'calls/ev':>8} {'acc.calls/s':>11} "
             f"{'refused':>8} {'not acc.':>8} {'CPU-s/1k':>8} {'co-loc bound':>12} {'ratio':>6} {'limit mean/last':>15} "
             f"{'in flight':>9}"]

    def num(v, fmt):
        return fmt.format(v) if v is not None else "?"
    for case, by_build in c["summary"].items():
        for build, x in by_build.items():
            lo, hi = x["events_per_s_range"]
            rate = f"{num(x['events_per_s'], '{:.0f}')} [{lo:.0f}-{hi:.0f}]" + ("!" if x["truncated_runs"] else "")
            limit = f"{num(x['limit_mean'], '{:.1f}')}/{num(x['limit_last'], '{:.0f}')}"
            lines.append(f"{case:12} {build:6} {x['events']:>7} {rate:>18} {num(x['sfmc_calls_per_event'], '{:.4f}'):>8} "
                         f"{num(x['accepted_calls_per_s'], '{:.1f}'):>11} {pct(x['refused_share']):>8} "
                         f"{x['not_accepted']:>8} {num(x['cpu_s_per_1k'], '{:.3f}'):>8} "
                         f"{num(x['colocated_bound_events_per_s'], '{:.0f}'):>12} "
                         f"{num(x['colocated_ratio'], '{:.4f}'):>6} {limit:>15} "
                         f"{num(x['calls_in_flight_mean'], '{:.1f}'):>9}")
    for build, x in c["summary"].get("mix", {}).items():
        lines.append(f"  mix, {build}: " + "; ".join(
            f"{kind} {num(x[f'{kind}_events_per_s'], '{:.0f}')}/s = {num(x[f'{kind}_vs_alone'], '{:.2f}')}x "
            f"alone ({num(x[f'{kind}_alone_events_per_s'], '{:.0f}')}/s), {x[f'{kind}_not_accepted']} not accepted"
            for kind in ("merge", "unique")))
    for build, x in c["summary"].get("schedule", {}).items():
        lines.append(f"  schedule, {build} (accepted calls/s at T+4-5 s, best 1 s within 5 s, mean after 5 s; "
                     f"limit at T+5 s): " + "; ".join(
                         f"{calls} calls (bound {calls / (CONC_LATENCY / 1000):.0f}/s): "
                         f"{num(x[f'phase{i}_accepted_per_s_4_5s'], '{:.0f}')} "
                         f"({pct(x[f'phase{i}_share_4_5s'], 0)}), best {pct(x[f'phase{i}_best_1s_share'], 0)}, "
                         f"{num(x[f'phase{i}_accepted_per_s_after_5s'], '{:.0f}')}/s; "
                         f"limit {num(x[f'phase{i}_limit_at_5s'], '{:.0f}')}"
                         for i, calls in enumerate(CONC_SCHEDULE)))
    lines.append("  acc.calls/s: send calls the simulator accepted (2xx) per second over the outcomes' steady span; "
                 "refused: 429 / all send calls; not acc.: outcomes whose status is not accepted (summed over rounds); "
                 "CPU-s/1k: the relay's; limit: sfmc_relay_sfmc_concurrency_limit (? = the build has none); "
                 "! = a run stopped before all its events were done")
    no_model = [f"{case}/{build}" for case in ("capacity", "schedule")
                for build, x in c["summary"].get(case, {}).items() if not x["sim_capacity_model"]]
    if no_model:
        errors = {x.get("sim_error") or (x.get("schedule") or {}).get("put_error")
                  for case in ("capacity", "schedule") for runs in c["runs"].get(case, {}).values() for x in runs}
        errors.discard(None)
        lines.append(f"  no capacity in force at the simulator (no 'capacity' in its stats) in {', '.join(no_model)}: "
                     f"their capacity targets are N/A" + (f" ({'; '.join(sorted(errors))})" if errors else "") +
                     ("" if c["settings"].get("sim capacity model") else "; sfmc-sim --help lists no --capacity"))
    lines.append("")
    for t in c["targets"]:
        lines.append(f"{t['result']:5} {t['build']:6} {t['target']:55} {str(t['value']):>10}  (goal {t['goal']})")
    return "\n".join(lines)


def fairness_text(f):
    lo, hi = f["p50_vs_all"]
    return (f"partitions: every first outcome by {f['latest_first_pct']:.0f} % of the run, the first partition "
            f"done at {f['earliest_last_pct']:.0f} %; medians {lo:.2f}-{hi:.2f}x the overall {f['p50_ms']} ms")


def variants_table(r):
    lines = [f"{'variant':28} {'sim':>5} {'events/s':>16} {'CPU-s/10k':>12} {'VmHWM MiB':>12} {'co-located':>12} "
             f"{'1st out %':>10} {'p50 x':>10} {'win full':>9} {'txn/s':>6} {'commit ms':>10}"]

    def span(values, fmt):
        values = [v for v in values if v is not None]
        return "-".join(fmt.format(v) for v in (min(values), max(values))) if values else "?"
    for v in r["variants"]:
        for lat, runs in v["runs"].items():
            lines.append(f"{v['name']:28} {lat:>5} {span([x['steady_events_per_s'] for x in runs], '{:.0f}'):>16} "
                         f"{span([x.get('cpu_s_per_10k') for x in runs], '{:.2f}'):>12} "
                         f"{span([x['vmhwm_mib'] for x in runs], '{:.1f}'):>12} "
                         f"{span([x.get('colocated_ratio') for x in runs], '{:.2f}'):>12} "
                         f"{span([x.get('fairness', {}).get('latest_first_pct') for x in runs], '{:.0f}'):>10} "
                         f"{span([x.get('fairness', {}).get('p50_vs_all', [None, None])[1] for x in runs], '{:.2f}'):>10} "
                         f"{span([(x.get('window') or {}).get('share_window_full') for x in runs], '{:.0%}'):>9} "
                         f"{span([(x.get('window') or {}).get('transactions_per_s') for x in runs], '{:.1f}'):>6} "
                         f"{span([(x.get('window') or {}).get('commit_ms_mean') for x in runs], '{:.1f}'):>10}")
    for v in r["variants"]:
        lines.append(f"  {v['name']}: {v['changes'] or 'the benchmark settings above'}")
    for c in r.get("comparisons", []):
        for lat, x in c["latencies"].items():
            lines.append(f"  {c['variant']} / {c['baseline']} at {lat}: events/s {x['events_per_s_pct']}%, "
                         f"CPU-s per 10k {x['cpu_s_per_10k_pct']}% (the rounds' means)")
    return "\n".join(lines)


def compare(variants, specs):
    """--compare A:B: A's mean events/s and CPU-s per 10k as a share of B's,
    per simulator latency (for CPU, B's over A's: 100 % or more means A
    costs no more than B)."""
    runs = {v["name"]: v["runs"] for v in variants}
    out = []
    for spec in specs:
        a, _, b = spec.partition(":")
        if a not in runs or b not in runs:
            raise SystemExit(f"--compare {spec}: both must be variant names ({', '.join(runs)})")
        lats = {}
        for lat in runs[a]:
            def mean_of(name, key):
                values = [x.get(key) for x in runs[name].get(lat, []) if x.get(key)]
                return sum(values) / len(values) if values else None
            ea, eb = mean_of(a, "steady_events_per_s"), mean_of(b, "steady_events_per_s")
            ca, cb = mean_of(a, "cpu_s_per_10k"), mean_of(b, "cpu_s_per_10k")
            lats[lat] = {"events_per_s_pct": round(100 * ea / eb) if ea and eb else None,
                         "cpu_s_per_10k_pct": round(100 * cb / ca) if ca and cb else None}
        out.append({"variant": a, "baseline": b, "latencies": lats})
    return out


def table(r):
    if "variants" in r:
        return variants_table(r)
    if "ens" in r:  # --ens-only
        runs = r["ens"]["runs"]
        rows = [f"{'ENS alone':14} {'events/s':>9} {'p50 ms':>7} {'p90':>6} {'p99':>6} {'max':>7} "
                f"{'CPU-s/10k relay':>16} {'broker':>7} {'load':>6} {'of bound':>9}"]
        for i, x in enumerate(runs.get("ens_alone", [])):
            rows.append(f"round {i + 1:<8} {x['events_per_s']:>9} {x.get('p50_ms'):>7} {x.get('p90_ms'):>6} "
                        f"{x.get('p99_ms'):>6} {x.get('max_ms'):>7} {x['relay_cpu_s_per_10k']:>16} "
                        f"{x['broker_cpu_s_per_10k']:>7} {x['load_cpu_s_per_10k']:>6} {x['colocated_ratio']:>9.0%}")
        if runs.get("ens_paced"):
            x = runs["ens_paced"]
            rows.append(f"{'paced ' + str(x['rate']):14} {x['events_per_s']:>9} {x.get('p50_ms'):>7} "
                        f"{x.get('p90_ms'):>6} {x.get('p99_ms'):>6} {x.get('max_ms'):>7} {x['relay_cpu_s_per_10k']:>16}")
        for i, (alone, beside) in enumerate(zip(runs.get("sends_alone", []), runs.get("sends_with_ens", []))):
            rows.append(f"round {i + 1}: sends alone {alone['sends_events_per_s']}/s; with ENS busy "
                        f"{beside['sends_events_per_s']}/s beside {beside['ens_events_per_s_beside']} ENS events/s")
        return "\n".join(rows) + f"\n\nwall time {r['seconds']} s"
    if "redrive" in r:  # --redrive-only
        rows = [f"{'redrive round':14} {'records/s':>10} {'wall s':>7} {'CPU-s/10k redrive':>18} {'broker':>7} "
                f"{'bound/s':>8} {'of bound':>9} {'RSS MiB':>8}"]
        for i, x in enumerate(r["redrive"]["runs"]):
            rows.append(f"{i + 1:<14} {x['records_per_s']:>10} {x['wall_s']:>7} {x['redrive_cpu_s_per_10k']:>18} "
                        f"{x['broker_cpu_s_per_10k']:>7} {x['colocated_bound_records_per_s']:>8} "
                        f"{x['colocated_ratio']:>9.0%} {x['peak_rss_mib']:>8}")
        return "\n".join(rows) + f"\n\nwall time {r['seconds']} s; {r['redrive']['settings']['records']} dead letters"
    if "relay" not in r:  # --coalesce-only, --concurrency-only
        parts = ([coalesce_table(r["coalesce"])] if r.get("coalesce") else []) + \
                ([concurrency_table(r["concurrency"])] if r.get("concurrency") else [])
        return ("\n\n".join(parts) + f"\n\nwall time {r['seconds']} s; load average "
                f"{r['machine']['loadavg_at_start']:.1f} at start, {r['machine']['loadavg_at_end']:.1f} at end "
                "(2 cores expected idle)")
    lines = []
    k, h = r["kafka_limit"], r["http_limit"]
    lines.append(f"{'measurement':44} {'events/s':>9} {'CPU-s/10k':>9} {'VmHWM MiB':>9} {'p50/p99 ms':>12}")
    lines.append(f"{'1. Kafka limit (pass-through)':44} {k['steady_events_per_s']:9.0f} "
                 f"{k['cpu_s'] / max(1, k['read']) * 1e4:9.3f} {k['vmhwm_kb'] / 1024:9.1f}")
    for lat, x in h.items():
        lines.append(f"{'2. HTTP limit (wrk, sim ' + lat + ', c' + str(x['connections']) + ')':44} "
                     f"{x['requests_per_s']:9.0f}  CPU-s/10k: wrk {x.get('wrk_cpu_s_per_10k')}, "
                     f"sim {x.get('sim_cpu_s_per_10k')}; machine busy {x.get('machine_busy_cores')} cores")

    def row(label, x, paced=False):
        lat = x.get("added_latency_ms") if paced else None
        lat_text = f"{lat['p50']:.0f}/{lat['p99']:.0f}" if lat else ""
        trunc = (f"  {'STALLED' if x.get('stalled') else 'TRUNCATED'} at {x['read']}" if x.get("truncated") else "")
        w = x.get("window") or {}
        window = (f"  in flight mean {w['in_flight_mean']} (none {w['share_empty']:.0%}), window mean "
                  f"{w['window_mean']} (full {w['share_window_full']:.0%})") if w else ""
        return (f"{label:44} {x['steady_events_per_s']:9.0f} {x.get('cpu_s_per_10k', float('nan')):9.3f} "
                f"{x['vmhwm_mib']:9.1f} {lat_text:>12}{window}{trunc}")
    for lat, x in r["relay"].items():
        lines.append(row(f"3. relay backlog {x['events']}, sim {lat}", x))
        b = x.get("budget") or {}
        if b:
            lines.append(f"{'':44} CPU-s/10k beside the relay: sim {b.get('sim_cpu_s_per_10k')}, broker "
                         f"{b.get('broker_cpu_s_per_10k')}; machine busy {b.get('machine_busy_cores')} cores")
        if x.get("colocated_bound_events_per_s"):
            lines.append(f"{'':44} co-located bound {x['colocated_bound_events_per_s']} events/s; "
                         f"relay at {x['colocated_ratio']} of it")
        if x.get("fairness"):
            lines.append(f"{'':44} {fairness_text(x['fairness'])}")
    for lat, x in r["latency"].items():
        if lat == "kafka_path_only":
            lat_ms = x["latency_ms"]
            lines.append(f"{'   Kafka path alone paced ' + str(x['rate']) + '/s (e2e)':44} {x['steady_events_per_s']:9.0f} "
                         f"{'':9} {'':9} {lat_ms['p50']:.0f}/{lat_ms['p99']:.0f}".rstrip())
            continue
        lines.append(row(f"3. relay paced {x['rate']}/s, sim {lat} (added)", x, paced=True))
    for n, x in r["growth"].items():
        lines.append(row(f"4. growth {n}, sim 0ms", x))
    if r.get("growth_held"):
        x = r["growth_held"]
        lines.append(row(f"4. backlog <= {x['held']} held {x['seconds']:.0f} s", x))
    threads = r["relay"]["0ms"].get("threads") or []
    busy = [t for t in threads if t["cpu_s"] >= 0.1]
    if busy:
        lines.append("   relay 0 ms CPU-s by thread (tid order; consumer's rdk:* before producer's): " +
                     ", ".join(f"{t['name']} {t['cpu_s']}" for t in busy))
    lines.append("")
    for t in r["targets"]:
        lines.append(f"{t['result']:5} {t['target']:46} {str(t['value']):>12}  (goal {t['goal']})")
    p = r.get("profile", {})
    if p.get("by_symbol"):
        lines.append("")
        lines.append(f"profile ({p['events']} events; relay CPU utilisation {p['run'].get('cpu_utilisation')}):")
        for row_ in p["by_thread"][:3]:
            lines.append(f"  thread {row_['share_pct']:5.1f}%  {row_['what']}")
        for row_ in p["by_symbol"][:12]:
            lines.append(f"  {row_['share_pct']:5.1f}%  {row_['what']}")
    if r.get("coalesce"):
        lines += ["", coalesce_table(r["coalesce"])]
    if r.get("concurrency"):
        lines += ["", concurrency_table(r["concurrency"])]
    lines.append(f"\nwall time {r['seconds']} s; load average {r['machine']['loadavg_at_start']:.1f} at start, "
                 f"{r['machine']['loadavg_at_end']:.1f} at end (2 cores expected idle)")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k backlogs only, shorter runs")
    ap.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--report", required=True, help="JSON report file")
    ap.add_argument("--main-events", type=int, default=100_000)
    ap.add_argument("--cap-s", type=float, default=None, help="time cap per relay run (s)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:SIDE.PROP=V[,...]",
                    help="compare daemon settings (SIDE: consumer or producer) with the defaults, in one run: "
                         "only the main backlog at 0 and 20 ms, --rounds times")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--compare", action="append", default=[], metavar="VARIANT:BASELINE",
                    help="with --variant: print VARIANT's mean events/s and CPU-s per 10k as a share of BASELINE's "
                         "('defaults' names the benchmark's own settings)")
    ap.add_argument("--partitions", type=int, default=PARTITIONS, help="of each input topic")
    ap.add_argument("--coalesce", action="store_true",
                    help="after the full run, coalescing on and off at 0, 20 and 200 ms (issue 13; ~10 min more)")
    ap.add_argument("--coalesce-only", action="store_true", help="only the coalescing section")
    ap.add_argument("--coalesce-events", type=int, default=None,
                    help="backlog per coalescing run (100000; 50000 with --quick)")
    ap.add_argument("--coalesce-off-slow-events", type=int, default=None,
                    help="backlog for coalescing off at 200 ms, which carries ~320 events/s (10000; 5000 with --quick)")
    ap.add_argument("--coalesce-rounds", type=int, default=None, help="backlog rounds of on/off (2; 1 with --quick)")
    ap.add_argument("--concurrency", action="store_true",
                    help="after the full run, the adaptive concurrency section (unmergeable, capacity 24, capacity "
                         "schedule, merged, mix; sim 200 ms, 64 connections)")
    ap.add_argument("--concurrency-only", action="store_true", help="only the concurrency section")
    ap.add_argument("--before-bin", metavar="PATH",
                    help="concurrency section: another sfmc-relay build (the 'before'), each case run with it and "
                         "with this tree's, interleaved")
    ap.add_argument("--concurrency-rounds", type=int, default=1, help="rounds of the concurrency cases (1)")
    ap.add_argument("--concurrency-cases", default=",".join(CONC_CASES),
                    help="comma-separated subset of " + ",".join(CONC_CASES) + " (all); mix compares with "
                         "unmergeable and merged")
    ap.add_argument("--concurrency-unique-events", type=int, default=None,
                    help="unmergeable backlog, this tree's build (6000; 3000 with --quick)")
    ap.add_argument("--concurrency-capacity-events", type=int, default=None,
                    help="unmergeable backlog against capacity 24, this tree's build (3600; 2400 with --quick)")
    ap.add_argument("--concurrency-before-events", type=int, default=None,
                    help="the --before-bin build's unmergeable backlogs (~80/s with 16 calls): unmergeable and "
                         "capacity 24 (2000; 1200 with --quick), twice it for its mix")
    ap.add_argument("--concurrency-merged-events", type=int, default=None,
                    help="mergeable backlog (100000; 50000 with --quick)")
    ap.add_argument("--concurrency-mix-partitions", type=int, default=None,
                    help="the mix's partitions, half for each kind (twice --partitions: each kind on as many as alone)")
    ap.add_argument("--concurrency-mix-events", type=int, default=None,
                    help="mix backlog, one unique event in MIX_EVERY (180000; 60000 with --quick)")
    ap.add_argument("--concurrency-schedule-events", type=int, default=None,
                    help="backlog of the capacity schedule run (default: 1.25 x what the three phases carry)")
    ap.add_argument("--concurrency-phase-s", type=float, default=None,
                    help="length of each capacity phase, 24 -> 64 -> 8 calls (20; 12 with --quick)")
    ap.add_argument("--concurrency-cap-s", type=float, default=None,
                    help="time cap per concurrency run (90 s; the schedule run: plus its phases)")
    ap.add_argument("--ens-only", action="store_true",
                    help="only the ENS receiver: signed batches of 1,000 at full speed, then the send path alone "
                         "and beside that load")
    ap.add_argument("--ens-seconds", type=float, default=20, help="length of each ENS-alone run (20)")
    ap.add_argument("--ens-senders", type=int, default=4, help="ENS connections posting at once (4)")
    ap.add_argument("--ens-rate", type=int, default=20_000, help="events/s of the paced ENS run (20000)")
    ap.add_argument("--ens-backlog", type=int, default=100_000, help="merged backlog of the send-path runs (100000)")
    ap.add_argument("--ens-rounds", type=int, default=2, help="rounds of each ENS run (2)")
    ap.add_argument("--redrive-only", action="store_true",
                    help="only `sfmc-relay redrive`: a dead-letter topic back to a topic of its own")
    ap.add_argument("--redrive-events", type=int, default=300_000, help="dead letters per redrive round (300000)")
    ap.add_argument("--redrive-rounds", type=int, default=3, help="redrive rounds (3)")
    ap.add_argument("--paced-seconds", type=float, default=None,
                    help="length of each paced (latency) run (10; 6 with --quick): longer runs let one stall of the "
                         "machine move a p99 less")
    args = ap.parse_args()
    args.cap_s = args.cap_s or (60 if args.quick else 100)
    args.wrk_seconds = 5 if args.quick else 8
    args.paced_seconds = args.paced_seconds or (6 if args.quick else 10)
    args.profile_events = 30_000 if args.quick else 50_000
    args.held_seconds = 20 if args.quick else 60
    args.coalesce_events = args.coalesce_events or (50_000 if args.quick else 100_000)
    args.coalesce_off_slow_events = args.coalesce_off_slow_events or (5_000 if args.quick else 10_000)
    args.coalesce_rounds = args.coalesce_rounds or (1 if args.quick else 2)
    args.concurrency_unique_events = args.concurrency_unique_events or (3000 if args.quick else 6000)
    args.concurrency_capacity_events = args.concurrency_capacity_events or (2400 if args.quick else 3600)
    args.concurrency_before_events = args.concurrency_before_events or (1200 if args.quick else 2000)
    args.concurrency_merged_events = args.concurrency_merged_events or (50_000 if args.quick else 100_000)
    args.concurrency_mix_events = args.concurrency_mix_events or (60000 if args.quick else 180000)
    args.concurrency_mix_partitions = args.concurrency_mix_partitions or 2 * args.partitions
    args.concurrency_phase_s = args.concurrency_phase_s or (12 if args.quick else 20)
    args.concurrency_cap_s = args.concurrency_cap_s or 90
    args.concurrency_cases = [c.strip() for c in args.concurrency_cases.split(",") if c.strip()]
    unknown = [c for c in args.concurrency_cases if c not in CONC_CASES]
    if unknown:
        ap.error(f"--concurrency-cases: {', '.join(unknown)} (choose from {', '.join(CONC_CASES)})")
    if args.before_bin and not os.access(args.before_bin, os.X_OK):
        ap.error(f"--before-bin {args.before_bin}: not an executable")
    bench = Bench(args)
    try:
        report = bench.run()
    finally:
        bench.cleanup()
    with open(args.report, "w") as f:
        json.dump(report, f, indent=1)
    print(table(report))
    print(f"report: {args.report}")


if __name__ == "__main__":
    main()
