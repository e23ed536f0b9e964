# Small training sets train well with default hyperparameters: linlearn against plain
# least-squares / logistic fits that scikit-learn makes of the same rows (tests/small_data.py).
. tests/cli/lib.sh
NAME=cli_small_data
PY=/usr/bin/python3
if ! $PY -c 'import sklearn, numpy' 2>/dev/null; then
    skip "small data sets against scikit-learn" "$PY has no scikit-learn"
    finish; exit
fi
$PY tests/small_data.py "$LL" "$TD" >$T/small.txt 2>$T/small.err
while read -r st rest; do
    case $st in
    ok) check "$rest" true ;;
    bad) check "$rest" false ;;
    *) check "small_data.py: $st $rest" false ;;
    esac
done <$T/small.txt
check "small_data.py ran every case (stderr: $(head -c 300 $T/small.err))" test "$(grep -c '^ok\|^bad' $T/small.txt)" -ge 29
finish
