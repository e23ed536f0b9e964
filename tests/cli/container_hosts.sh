#!/bin/sh
# container_hosts.sh - docker/entrypoint's multi-host launch as plain processes (no docker, no
# network): for a given resourceconfig.json algo-1 waits until every other host answers over
# ssh, then execs mpirun with the hostfile and command line SageMaker's MPI containers use (one
# slot per host, hosts in natural order, the job's variables passed on); another host starts
# sshd and waits until algo-1's mpirun has reached it (orted) and ended. ssh, sshd and mpirun
# are stand-ins that record what they were asked; `linlearn train --sagemaker --print-hosts`
# is the real one.
NAME=container_hosts
. tests/cli/lib.sh
EP=$PWD/docker/entrypoint
export LINLEARN=$LL LL_POLL_S=0.1
mkdir -p "$T/bin"
# ssh stand-in: host H answers once $T/up.H exists; every attempt is logged
cat > "$T/bin/ssh" <<EOF
#!/bin/sh
for a; do h=\$a; case \$a in -*) ;; *) [ "\$prev" = -o ] || break ;; esac; prev=\$a; done
echo "\$h" >> "$T/ssh.log"
test -e "$T/up.\$h"
EOF
# mpirun stand-in: records its arguments and the hostfile it was given
cat > "$T/bin/mpirun" <<EOF
#!/bin/sh
printf '%s\n' "\$@" > "$T/mpirun.args"
while [ \$# -gt 0 ]; do [ "\$1" = --hostfile ] && cp "\$2" "$T/hostfile.seen"; shift; done
EOF
# sshd stand-in: says it started (a real sshd daemonizes and returns 0)
printf '#!/bin/sh\ntouch "%s/sshd.started"\n' "$T" > "$T/bin/sshd"
chmod +x "$T/bin/"*
export LL_SSH=$T/bin/ssh LL_MPIRUN=$T/bin/mpirun LL_SSHD=$T/bin/sshd LL_HOSTFILE=$T/hostfile

root() { # root DIR CURRENT HOSTS_JSON [NIC]
    mkdir -p "$1/input/config"
    printf '{"current_host": "%s", "hosts": %s%s}\n' "$2" "$3" "${4:+, \"network_interface_name\": \"$4\"}" > "$1/input/config/resourceconfig.json"
}
H4='["algo-3", "algo-10", "algo-1", "algo-2"]'

# the plan linlearn prints for the entry point
root "$T/r1" algo-1 "$H4" ethx
check "print-hosts: hosts in natural order, algo-1 first" sh -c \
    "'$LL' train --sagemaker --sm-root '$T/r1' --print-hosts > '$T/plan' && grep -qx \"LL_HOSTS='algo-1 algo-2 algo-3 algo-10'\" '$T/plan' && grep -qx 'LL_HOST_INDEX=0' '$T/plan' && grep -qx \"LL_NIC='ethx'\" '$T/plan'"
root "$T/rbad" algo-1 '["algo-1", "x;rm -rf /"]'
check_fails "print-hosts refuses a host name unsafe on a command line" 2 "is not 1-127 of" \
    "$LL" train --sagemaker --sm-root "$T/rbad" --print-hosts

# algo-1 waits for every other host, then starts mpirun over all four
SM_ROOT=$T/r1 TRAINING_JOB_NAME=jh sh "$EP" train --threads 2 > "$T/lead.log" 2>&1 & lp=$!
sleep 1
check "algo-1 waits while the other hosts do not answer" sh -c "kill -0 $lp && test ! -e '$T/mpirun.args'"
check "algo-1 asks algo-2 over ssh (never itself)" sh -c "grep -qx algo-2 '$T/ssh.log' && ! grep -qx algo-1 '$T/ssh.log'"
touch "$T/up.algo-2" "$T/up.algo-3"
sleep 0.5
check "algo-1 still waits for algo-10" sh -c "kill -0 $lp && test ! -e '$T/mpirun.args' && grep -qx algo-10 '$T/ssh.log'"
touch "$T/up.algo-10"
wait $lp; st=$?
check "algo-1 execs mpirun once every host answers (exit 0)" test "$st" -eq 0
check "the hostfile: one slot per host, in rank order" sh -c \
    "printf 'algo-1 slots=1\nalgo-2 slots=1\nalgo-3 slots=1\nalgo-10 slots=1\n' | cmp - '$T/hostfile.seen'"
check "mpirun: 4 ranks by slot over the hostfile" sh -c \
    "tr '\n' ' ' < '$T/mpirun.args' | grep -q -- '--hostfile $T/hostfile -np 4 --map-by slot --bind-to none'"
check "mpirun: the resourceconfig's interface" sh -c \
    "tr '\n' ' ' < '$T/mpirun.args' | grep -q -- '--mca btl_tcp_if_include ethx --mca oob_tcp_if_include ethx'"
check "mpirun: the job's variables go to every rank" sh -c \
    "tr '\n' ' ' < '$T/mpirun.args' | grep -q -- '-x PATH ' && tr '\n' ' ' < '$T/mpirun.args' | grep -q -- '-x TRAINING_JOB_NAME '"
check "mpirun: each rank runs linlearn train --sagemaker on its own root, with the arguments" sh -c \
    "tr '\n' ' ' < '$T/mpirun.args' | grep -q -- '$LL train --sagemaker --sm-root $T/r1 --threads 2 \$'"

# algo-1 gives up on a host that never answers, with the job's failure reason
rm -f "$T/up."* "$T/mpirun.args"
root "$T/r2" algo-1 '["algo-1", "algo-2"]'
check_fails "algo-1: a host that never answers fails the job" 1 "host algo-2 did not answer over ssh within 1 s" \
    env SM_ROOT="$T/r2" LL_HOST_WAIT_S=1 sh "$EP" train
check "the failure reason is written" grep -q "^Algorithm Error: host algo-2 did not answer" "$T/r2/output/failure"
check "no mpirun then" test ! -e "$T/mpirun.args"

# another host: sshd, then wait for mpirun's orted to come and go
root "$T/r3" algo-2 "$H4"
ORT=llt-orted-$$
export LL_ORTED=$ORT
SM_ROOT=$T/r3 sh "$EP" train > "$T/work.log" 2>&1 & wp=$!
sleep 1
check "algo-2 starts sshd" test -e "$T/sshd.started"
check "algo-2 waits for algo-1's mpirun" kill -0 $wp
cp "$(command -v sleep)" "$T/bin/$ORT"
"$T/bin/$ORT" 1.5 & op=$!
sleep 0.8
check "algo-2 waits while the job runs on it" sh -c "kill -0 $wp && grep -q 'the job runs here' '$T/work.log'"
wait $op
wait $wp; st=$?
check "algo-2 exits 0 once the job has ended" test "$st" -eq 0
check "algo-2 says why it ended" grep -q "the job ended" "$T/work.log"
check "algo-2 never starts mpirun or training" test ! -e "$T/mpirun.args"
rm -f "$T/sshd.started"
check_fails "algo-2: mpirun that never comes fails the job" 1 "algo-1's mpirun did not reach this host within 1 s" \
    env SM_ROOT="$T/r3" LL_JOB_WAIT_S=1 sh "$EP" train

# a rank that mpirun started runs linlearn itself, whatever the host list says
printf '#!/bin/sh\necho "$@" > "%s/rank.args"\n' "$T" > "$T/bin/fake-ll"; chmod +x "$T/bin/fake-ll"
check "a rank (OMPI_COMM_WORLD_SIZE set) execs linlearn train --sagemaker" sh -c \
    "SM_ROOT='$T/r3' LINLEARN='$T/bin/fake-ll' OMPI_COMM_WORLD_SIZE=4 sh '$EP' train --seed 3 && grep -qx 'train --sagemaker --sm-root $T/r3 --seed 3' '$T/rank.args'"
# the image carries what this needs: Open MPI (built in, and mpirun), sshd, ssh and a shared key
DF=$PWD/docker/Dockerfile
check "Dockerfile: linlearn built with MPI" grep -q 'make .*MPI=1' "$DF"
check "Dockerfile: mpirun, sshd and ssh in the image" sh -c "grep -q 'openmpi-bin' '$DF' && grep -q 'openssh-server' '$DF' && grep -q 'openssh-client' '$DF'"
check "Dockerfile: one key pair authorized for every container of the image" sh -c "grep -q 'ssh-keygen -q -t ed25519' '$DF' && grep -q 'authorized_keys' '$DF'"
check "the entry point is POSIX sh" sh -n "$EP"
finish
