#!/bin/sh
test_description='output/report.html in a real browser

A generated workload is replayed; its report.html names the versions the instance ran
(output/versions.json) and fetches nothing. Debian'"'"'s chromium renders it headless: the
page after its scripts ran shows the run'"'"'s numbers as summary.json has them, the per-node
view is drawn, and the browser logs no console message. The same check is shown to fail on
a copy of the page with a script error. A screenshot is taken (FF_REPORT_SCREENSHOT=FILE
keeps it, e.g. for docs/report.png). Without /usr/bin/chromium the browser checks are
skipped (apt-get install chromium).'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate

# The browser checks need Debian's chromium, and python3 to read the page it renders.
CHROMIUM=/usr/bin/chromium
if ! test -x "$CHROMIUM"; then
	echo "# $CHROMIUM not found: the browser checks are skipped (apt-get install chromium)"
elif ! command -v python3 >/dev/null 2>&1; then
	echo "# python3 not found: the browser checks are skipped"
else
	test_set_prereq CHROMIUM
fi

FF_RUNS=$PWD/runs
out=$FF_RUNS/rep/output

# chromium ARGS...: headless Debian chromium with a throwaway profile, its log on
# chromium.err (console messages are logged there as ":CONSOLE:" lines), at most 120 s.
chromium() {
	timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$PWD/chromium-profile" --enable-logging=stderr --v=0 "$@" 2>chromium.err || {
		echo "# chromium $* failed:" >&5
		tail -n 5 chromium.err | sed 's/^/#   /' >&5
		return 1
	}
}

# rendered_shows_the_run PAGE: PAGE, rendered, shows $out/summary.json's numbers and the
# per-node view drawn by its script, and the browser logged no console message.
rendered_shows_the_run() {
	chromium --dump-dom "file://$1" >dom.html &&
	if grep ":CONSOLE" chromium.err >console.txt; then
		echo "# console messages from $1:" >&5
		sed 's/^/#   /' console.txt >&5
		return 1
	fi &&
	python3 - "$out/summary.json" dom.html <<-\EOF
	import json, sys
	from html.parser import HTMLParser

	summary = json.load(open(sys.argv[1]))

	def number(x):  # as the page writes numbers: at most 2 decimals, no trailing zeros
	    return f"{x:.2f}".rstrip("0").rstrip(".")

	want = {
	    "h-jobs": f"{summary['jobs_completed']} / {summary['jobs_total']}",
	    "h-makespan": number(summary["makespan_seconds"]),
	    "h-node-utilization": number(summary["node_utilization_pct"]) + " %",
	    "h-mean-wait": number(summary["wait_seconds"]["mean"]),
	    "occupancy-status": "Drawn: 4 rows × 200 time slices.",
	}

	class Texts(HTMLParser):
	    def __init__(self):
	        super().__init__()
	        self.texts, self.open = {}, None
	    def handle_starttag(self, tag, attrs):
	        self.open = dict(attrs).get("id")
	    def handle_endtag(self, tag):
	        self.open = None
	    def handle_data(self, data):
	        if self.open in want:
	            self.texts[self.open] = self.texts.get(self.open, "") + data

	page = Texts()
	page.feed(open(sys.argv[2]).read())
	wrong = {k: (page.texts.get(k), v) for k, v in want.items() if page.texts.get(k) != v}
	for k, (got, expected) in wrong.items():
	    print(f"# #{k}: shows {got!r}, summary.json says {expected!r}", file=sys.stderr)
	sys.exit(1 if wrong else 0)
	EOF
}

test_expect_success 'setup: a replay of 80 generated jobs on 4 nodes' '
	flux-fiction-generate --model uniform --jobs 80 --nodes 4 --seed 5 --mean-interarrival 60 \
		--max-runtime 900 -o rep.swf &&
	ff_experiment rep rep.swf 4 2 "$(ff_queue_policy easy)" &&
	ff_replay rep rep &&
	test -s "$out/report.html"
'

test_expect_success 'versions.json: the flux-core and Fluxion the instance ran, shown on the page' '
	core=$(flux version | sed -n "s/^libflux-core:[[:space:]]*//p") &&
	jq -e --arg core "$core" ".flux_core == \$core and (.fluxion | test(\"^[0-9]+[.][0-9]+\"))
		and .flux_fiction != null" "$out/versions.json" &&
	grep -q "<tr><th>flux-core</th><td>$core</td></tr>" "$out/report.html" &&
	grep -q "<tr><th>Fluxion (flux-sched)</th><td>$(jq -r .fluxion "$out/versions.json")</td></tr>" \
		"$out/report.html"
'

test_expect_success 'the page fetches nothing and stays one file' '
	! grep -Eiq "src=|<link|<img|<iframe|@import|url\(" "$out/report.html" &&
	test "$(grep -c "<svg" "$out/report.html")" = 3 &&
	test "$(grep -c "<tr><td" "$out/report.html")" -le 20
'

test_expect_success CHROMIUM 'rendered in chromium: the run'"'"'s numbers, the per-node view, no console message' '
	rendered_shows_the_run "$out/report.html"
'

test_expect_success CHROMIUM 'the same check fails on a page whose script breaks' '
	sed "s/var ctx = canvas.getContext/var ctx = canvas.noSuchMethod/" "$out/report.html" >broken.html &&
	! cmp -s broken.html "$out/report.html" &&
	test_must_fail rendered_shows_the_run "$PWD/broken.html" &&
	grep -q "Uncaught TypeError" console.txt
'

test_expect_success CHROMIUM 'a screenshot of the page' '
	chromium --screenshot="$PWD/report.png" --window-size=1280,2900 "file://$out/report.html" &&
	test "$(head -c 4 report.png | tail -c 3)" = PNG &&
	if test -n "$FF_REPORT_SCREENSHOT"; then cp report.png "$FF_REPORT_SCREENSHOT"; fi
'

test_done
