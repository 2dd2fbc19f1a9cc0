# One row per workload from peers.sh's results.tsv (all runs): the median
# time to target from the ready line, with its spread (min–max over the
# runs), for numabalance, the kernel's balancer, numad, nothing and the bare
# copy; numabalance ÷ kernel; numabalance's pages moved ÷ the misplaced pages
# (the none run's, in the same round: a balancer acting before ready has
# less left at its own); processes whose pages it moved to two nodes; and
# the goal of issue 17: time ≤ ½ the kernel's, or ≤ the copy + 1 s where the
# copy alone takes longer than half the kernel's time; ≤ 1.1× the misplaced
# pages; no page moved twice. "never" counts as longer than any time.
BEGIN { FS = "\t"; never = 1e9 }
NR == 1 { next }
{
    w = $2; b = $3; run = $14
    if (!(w in seen)) { seen[w] = 1; order[++n] = w }
    v = ($15 == "" || $15 == "never" || $15 == "-") ? never : $15 + 0
    times[w, b] = times[w, b] " " v
    if (b == "none") base[w, run] = $10
    if (b == "numabalance") { mine[w, run] = $9; own[w, run] = $10; runs[w] = runs[w] " " run; twice[w] += ($16 == "-" ? 0 : $16) }
}
function sorted(list, out,    k, i, j, t) {
    k = split(list, out, " ")
    for (i = 2; i <= k; i++) { t = out[i]; for (j = i - 1; j >= 1 && out[j] > t; j--) out[j + 1] = out[j]; out[j + 1] = t }
    return k
}
function median(list,    a, k) { k = sorted(list, a); return k == 0 ? "" : a[int((k + 1) / 2)] }
function show(t) { return t == "" ? "-" : (t >= never ? "never" : sprintf("%.1f", t)) }
function cell(w, b,    a, k, m) {
    k = sorted(times[w, b], a)
    if (k == 0) return "-"
    m = median(times[w, b])
    return k == 1 ? show(m) : show(m) " (" show(a[1]) "–" show(a[k]) ")"
}
END {
    print "| workload | numabalance | kernel | numad | none | bare copy | nb ÷ kernel | pages moved ÷ misplaced | moved to two nodes | goal |"
    print "|---|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= n; i++) {
        w = order[i]
        N = median(times[w, "numabalance"]); K = median(times[w, "kernel"]); C = median(times[w, "copy"])
        ratio = (N == "" || K == "" || N >= never) ? "-" : (K >= never ? "kernel never" : sprintf("%.2f", N / K))
        # pages moved ÷ misplaced, median over the runs
        k = split(runs[w], rs, " "); list = ""
        for (j = 1; j <= k; j++) {
            d = ((w, rs[j]) in base) ? base[w, rs[j]] : own[w, rs[j]]
            if (d > 0) list = list " " mine[w, rs[j]] / d
        }
        moved = median(list)
        why = ""
        if (N == "" ) why = "no numabalance run"
        else if (N >= never) why = "never at target"
        else if (K != "" && K < never && !(N <= K / 2 || (C != "" && C > K / 2 && N <= C + 1)))
            why = sprintf("%.1f s > %s", N, (C != "" && C > K / 2) ? sprintf("copy + 1 = %.1f s", C + 1) : sprintf("½ kernel = %.1f s", K / 2))
        if (moved != "" && moved > 1.1) why = why (why == "" ? "" : "; ") sprintf("moved %.2f× the misplaced", moved)
        if (twice[w] > 0) why = why (why == "" ? "" : "; ") twice[w] " process(es) moved to two nodes"
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, cell(w, "numabalance"), cell(w, "kernel"),
            cell(w, "numad"), cell(w, "none"), cell(w, "copy"), ratio, (moved == "" ? "-" : sprintf("%.2f", moved)),
            (runs[w] == "" ? "-" : twice[w] + 0), (why == "" ? "met" : "missed: " why)
    }
}
