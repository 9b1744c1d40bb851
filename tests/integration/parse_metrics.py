"""Parses a Prometheus text exposition with prometheus_client's own parser
(an implementation independent of the one that wrote it) and prints every
sample as JSON: {"name{label=\"value\",...}": value}."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main(path):
    samples = {}
    with open(path, encoding="utf-8") as f:
        for family in text_string_to_metric_families(f.read()):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
    json.dump(samples, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
