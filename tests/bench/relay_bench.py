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
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import threading
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
            if consumed:  # from the first event on
                self.samples.append((metric_value(text, "sfmc_relay_in_flight_events"),
                                     metric_value(text, "sfmc_relay_paused_partitions"), consumed,
                                     metric_value(text, "sfmc_relay_window_events")))

    def finish(self):
        self.done.set()
        self.thread.join(5)

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

    def topics(self, *names):
        self.tool("topics", "--bootstrap", self.bootstrap, *[f"{n}:{self.args.partitions}" for n in names])

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

    def start_sim(self, latency_ms):
        cmd = [self.sim, "--record-limit", "0", "--threads", str(SIM_THREADS)]
        if latency_ms:
            cmd += ["--latency-ms", str(latency_ms)]
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

    def produce(self, topic, count, run, rate=None):
        argv = ["produce", "--bootstrap", self.bootstrap, "--topic", topic, "--count", count, "--run", run]
        if rate:
            argv += ["--rate", rate]
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

    def start_relay(self, sim_url, input_topic, outcome_topic, tag, latency_ms):
        admin = self.free_port()
        config = self.relay_config(sim_url, self.name("g"), input_topic, outcome_topic, admin, latency_ms)
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
        if a.coalesce_only:
            # Only the section's own settings (coalesce.settings) apply.
            for key in ("pipeline.max_in_flight", "pipeline.ordering", "http.max_connections by sim latency"):
                report["settings"].pop(key)
            self.run_coalesce(report)
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
    if "relay" not in r:  # --coalesce-only
        return (coalesce_table(r["coalesce"]) + f"\n\nwall time {r['seconds']} s; load average "
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
