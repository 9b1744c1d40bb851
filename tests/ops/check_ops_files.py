#!/usr/bin/env python3
"""Checks of the dashboard and the alert rules that ship with the chart
(run by tests/ops/check-ops; the rule file itself is promtool's to check).

usage:
  check_ops_files.py queries DASHBOARD OUT
      Checks the dashboard's shape (a Prometheus data source variable that
      every panel uses, unique panel ids, panels within 24 columns and not
      overlapping, rate() over $__rate_interval) and writes every query,
      Grafana's variables replaced, as a recording rule into OUT, for
      `promtool check rules` to parse.
  check_ops_files.py coverage RULES TESTS
      Every alert of RULES has a firing and a silent case in TESTS (promtool
      test rules files).
  check_ops_files.py metric-names SCRAPE DASHBOARD RULES
      Every sfmc_relay_* name the dashboard and the rules use is a sample
      name of SCRAPE (a /metrics page, parsed with prometheus_client):
      histograms as their _bucket, _sum and _count series, counters with
      _total. Needs prometheus_client (tests/python-env).
Standard library only, but for metric-names. The rule files are read as
text: no YAML parser is needed for what is checked here.
"""

import json
import re
import sys

# Grafana's variables, as a query would see them: any job and instance, a
# rate window of one minute.
VARIABLES = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__range": "1h",
    "job": ".*",
    "instance": ".*",
}
METRIC = re.compile(r"\bsfmc_relay_[a-zA-Z0-9_:]*")


def fail(problems):
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    sys.exit(1)


def panels_of(dashboard):
    """Every panel, those inside collapsed rows too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard):
    """(name, where, expr) for every panel target and query variable."""
    for panel in panels_of(dashboard):
        for target in panel.get("targets", []):
            yield (f"dashboard_panel_{panel.get('id')}_{target.get('refId')}",
                   f"panel {panel.get('id')} '{panel.get('title')}' {target.get('refId')}", target.get("expr", ""))
    for var in dashboard.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            query = var["query"]["query"] if isinstance(var.get("query"), dict) else var.get("query", "")
            # label_values(SELECTOR, label): the selector is PromQL.
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", query.strip())
            yield f"dashboard_variable_{var['name']}", f"variable {var['name']}", m.group(1) if m else query


def substitute(expr):
    def value(m):
        name = m.group(1) or m.group(2)
        if name not in VARIABLES:
            raise KeyError(name)
        return VARIABLES[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def check_queries(dashboard_path, out_path):
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    problems = []
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append("no datasource variable of type datasource for prometheus")
    ids = [p.get("id") for p in panels_of(dashboard)]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids are not unique: {ids}")
    boxes = []
    for panel in panels_of(dashboard):
        g = panel.get("gridPos", {})
        if all(k in g for k in "hwxy"):
            for other, o in boxes:
                if all(g[p] < o[p] + o[s] and o[p] < g[p] + g[s] for p, s in (("x", "w"), ("y", "h"))):
                    problems.append(f"panels {other} and {panel.get('id')} overlap: {o} and {g}")
            boxes.append((panel.get("id"), g))
    rules, seen = [], set()
    for panel in panels_of(dashboard):
        where = f"panel {panel.get('id')} '{panel.get('title')}'"
        grid = panel.get("gridPos", {})
        if not all(k in grid for k in "hwxy") or grid["x"] + grid["w"] > 24:
            problems.append(f"{where}: gridPos {grid} is not within the 24 columns")
        if panel.get("type") == "row":
            continue
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{where}: datasource is {panel.get('datasource')}, not the datasource variable")
        if not panel.get("targets"):
            problems.append(f"{where}: no query")
    for name, where, expr in queries(dashboard):
        if not expr.strip():
            problems.append(f"{where}: empty query")
            continue
        for window in re.findall(r"\brate\([^\[]*\[([^\]]*)\]", expr):
            if window != "$__rate_interval":
                problems.append(f"{where}: rate() over [{window}], not [$__rate_interval]")
        try:
            promql = substitute(expr)
        except KeyError as e:
            problems.append(f"{where}: unknown variable ${e.args[0]}")
            continue
        if promql not in seen:
            seen.add(promql)
            rules.append({"record": name, "expr": promql})
    if problems:
        fail(problems)
    # JSON is YAML: promtool reads it as a rule file.
    with open(out_path, "w") as f:
        json.dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f, indent=1)
    charts = [p for p in panels_of(dashboard) if p.get("type") != "row"]
    print(f"   {len(rules)} distinct queries in {len(charts)} panels and the variables")


def alerts_in(rules_text):
    return re.findall(r"^\s*-\s*alert:\s*(\w+)\s*$", rules_text, re.M)


def check_coverage(rules_path, tests_path):
    alerts = alerts_in(open(rules_path).read())
    tests = open(tests_path).read()
    silent = set(re.findall(r"alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*\[\]", tests))
    firing = set(re.findall(r"alertname:\s*(\w+)\s*\n\s*exp_alerts:\s*\n\s*-\s*exp_labels:", tests))
    problems = [f"{a}: no firing case in {tests_path}" for a in alerts if a not in firing]
    problems += [f"{a}: no silent case (exp_alerts: []) in {tests_path}" for a in alerts if a not in silent]
    problems += [f"{a}: tested, but no such alert" for a in sorted((silent | firing) - set(alerts))]
    if not alerts:
        problems.append(f"no alert in {rules_path}")
    if problems:
        fail(problems)
    print(f"   {len(alerts)} alerts, each with a firing and a silent case")


def used_names(dashboard_path, rules_path):
    """Metric names by where they are used."""
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    names = {}
    for _, where, expr in queries(dashboard):
        for name in METRIC.findall(expr):
            names.setdefault(name, f"dashboard {where}")
    for number, line in enumerate(open(rules_path), 1):
        if line.lstrip().startswith("#"):
            continue
        for name in METRIC.findall(line):
            names.setdefault(name, f"{rules_path}:{number}")
    return names


def check_metric_names(scrape_path, dashboard_path, rules_path):
    from prometheus_client.parser import text_string_to_metric_families

    with open(scrape_path, encoding="utf-8") as f:
        exported = {s.name for family in text_string_to_metric_families(f.read()) for s in family.samples}
    names = used_names(dashboard_path, rules_path)
    missing = [f"{name} (used in {where}) is not in the scrape {scrape_path}"
               for name, where in sorted(names.items()) if name not in exported]
    if not names:
        missing.append("no sfmc_relay_ metric found in the dashboard and the rules")
    if missing:
        unused = sorted(n for n in exported if n.startswith("sfmc_relay_"))
        fail(missing + [f"the scrape has: {' '.join(unused)}"])
    print(f"   {len(names)} metric names used, all in the scrape")


def main():
    commands = {"queries": (check_queries, 2), "coverage": (check_coverage, 2),
                "metric-names": (check_metric_names, 3)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) != 2 + commands[sys.argv[1]][1]:
        sys.exit(__doc__)
    function, _ = commands[sys.argv[1]]
    function(*sys.argv[2:])


if __name__ == "__main__":
    main()
