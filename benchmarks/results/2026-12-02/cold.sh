#!/bin/bash
# task 3: cold numba cache, old then new, scale 200; then the same command again on the now-warm cache
cd /tmp
for side in old new; do
  exe=/tmp/wt-$side/.venv/bin/corridor
  dir=$(mktemp -d /tmp/numba-cold-$side-XXXX)
  echo "== cold $side NUMBA_CACHE_DIR=$dir $(date -u +%T) $(uptime)"
  NUMBA_CACHE_DIR=$dir /usr/bin/time -v $exe run us-mexico --scale 200 --seed 1 --no-report -q --out /tmp/cold-$side > /tmp/cold-$side.log 2>&1
  echo "   rc=$? $(grep -E 'Elapsed|Maximum resident|User time|System time' /tmp/cold-$side.log | tr -s ' ' | tr '\n' ';')"
  echo "   cache: $(find $dir -name '*.nbi' | wc -l) index files, $(du -sh $dir | cut -f1); after: $(uptime)"
  echo "== warm $side (same cache) $(date -u +%T) $(uptime)"
  NUMBA_CACHE_DIR=$dir /usr/bin/time -v $exe run us-mexico --scale 200 --seed 1 --no-report -q --out /tmp/cold-$side-warm > /tmp/cold-$side-warm.log 2>&1
  echo "   rc=$? $(grep -E 'Elapsed|Maximum resident|User time|System time' /tmp/cold-$side-warm.log | tr -s ' ' | tr '\n' ';')"
done
echo "== done $(date -u +%T)"
