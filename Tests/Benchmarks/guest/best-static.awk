# The misplaced pages: what the best static placement (hard bind) must move.
# Each unit (a process, or a group with its segment) gets `span` nodes of its
# own, its memory spread evenly over them; a unit named in `fixed` (UNIT:NODE,
# threads pinned by their user) stays on that node. The least over every way
# to give out the nodes is printed. Input lines: UNIT NODE PAGES.
# Usage: awk -v nodes=N -v span=S [-v fixed=U:K] -f best-static.awk
{ if (!($1 in total)) units[++n] = $1; pages[$1, $2] += $3; total[$1] += $3 }

function bit(mask, k) { return int(mask / 2 ^ k) % 2 }

# Pages unit u must move to live on the nodes of mask, spread evenly.
function cost(u, mask,    k, size, keep, even) {
    size = 0
    for (k = 0; k < nodes; k++) size += bit(mask, k)
    even = total[u] / size
    keep = 0
    for (k = 0; k < nodes; k++) if (bit(mask, k)) keep += (pages[u, k] < even ? pages[u, k] : even)
    return total[u] - keep
}

# The least cost of placing units i..n on nodes outside `used`.
function best(i, used,    mask, k, size, ok, c, least) {
    if (i > n) return 0
    least = -1
    for (mask = 1; mask < 2 ^ nodes; mask++) {
        size = 0; ok = 1
        for (k = 0; k < nodes; k++) if (bit(mask, k)) { size++; if (bit(used, k)) ok = 0 }
        if (!ok || size != span) continue
        if (units[i] in pin && mask != 2 ^ pin[units[i]]) continue
        c = cost(units[i], mask) + best(i + 1, used + mask)
        if (least < 0 || c < least) least = c
    }
    return least
}

END {
    if (fixed != "") { split(fixed, f, ":"); pin[f[1]] = f[2] }
    if (fixed != "" && span != 1) { print "best-static: a fixed unit needs span 1" > "/dev/stderr"; exit 1 }
    least = best(1, 0)
    if (least < 0) print "-"; else printf "%d\n", least + 0.5   # "-": no room for every unit
}
