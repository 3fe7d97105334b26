#!/bin/bash
# task 2: warm numba caches, then alternate old/new x3 with /usr/bin/time -v
cd /tmp
OLD=/tmp/wt-old/.venv/bin/corridor
NEW=/tmp/wt-new/.venv/bin/corridor
for side in old new; do
  exe=OLD; [ $side = new ] && exe=NEW
  echo "== warm-up $side $(date -u +%T) $(uptime)"
  /usr/bin/time -v ${!exe} run us-mexico --scale 1 --seed 1 --no-report -q --out /tmp/speed-$side-warm > /tmp/speed-$side-warm.log 2>&1
  echo "   rc=$? $(grep -E 'Elapsed|Maximum resident' /tmp/speed-$side-warm.log | tr -s ' ' | tr '\n' ';')"
done
for k in 1 2 3; do
  for side in old new; do
    exe=OLD; [ $side = new ] && exe=NEW
    echo "== run $side-$k $(date -u +%T) $(uptime)"
    /usr/bin/time -v ${!exe} run us-mexico --scale 1 --seed 1 --no-report -q --out /tmp/speed-$side-$k > /tmp/speed-$side-$k.log 2>&1
    echo "   rc=$? $(grep -E 'Elapsed|Maximum resident' /tmp/speed-$side-$k.log | tr -s ' ' | tr '\n' ';')"
    echo "   after: $(uptime)"
  done
done
echo "== done $(date -u +%T)"
