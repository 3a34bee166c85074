# Morphux's hook client: git runs it as pre-receive and post-receive (`sh hook-client.sh HOOK`,
# through the wrappers repos/install-hooks.ts writes), with the repo as its working directory.
# It POSTs git's stdin as it came, with the repo, the pusher and the quarantine as headers, to
# $MORPHUX_HOOK_URL/HOOK (Bearer $MORPHUX_HOOK_TOKEN), prints the server's messages (git shows them
# as `remote: ...`) and exits 1 when a pre-receive is refused or cannot be checked. No policy here:
# the server decides; the wire is domain/hook-protocol.ts. POSIX sh and one curl, because a push
# runs this twice: 0.02 s a run against 0.13-0.2 s for a Node process on this machine.
set -f
hook=$1
case $hook in
  pre-receive) refuse=1 ;;
  post-receive) refuse=0 ;;
  *) echo "Morphux: unknown hook \"$hook\"" >&2; exit 1 ;;
esac
say() { printf '%s\n' "$*" >&2; }
if [ -z "$MORPHUX_HOOK_URL" ] || [ -z "$MORPHUX_HOOK_TOKEN" ]; then
  say "Morphux: pushes are accepted only through the Morphux server"
  exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
  say "Morphux: the push could not be checked (the server lacks curl: run scripts/setup.sh); try again later"
  exit "$refuse"
fi

# git gives absolute quarantine paths; a relative one is the repo's (the working directory)
abs_list() {
  out='' IFS_was=$IFS
  IFS=:
  for p in $1; do
    [ -n "$p" ] || continue
    case $p in /*) ;; *) p=$PWD/$p ;; esac
    out=${out:+$out:}$p
  done
  IFS=$IFS_was
  printf '%s' "$out"
}
repo=${PWD##*/}
repo=${repo%.git}
set -- -H "x-morphux-repo: $repo" -H "x-morphux-pusher: ${REMOTE_USER:-}"
if [ "$hook" = pre-receive ]; then
  [ -z "$GIT_OBJECT_DIRECTORY" ] || set -- "$@" -H "x-morphux-git-object-directory: $(abs_list "$GIT_OBJECT_DIRECTORY")"
  [ -z "$GIT_ALTERNATE_OBJECT_DIRECTORIES" ] || set -- "$@" -H "x-morphux-git-alternate-object-directories: $(abs_list "$GIT_ALTERNATE_OBJECT_DIRECTORIES")"
  [ -z "$GIT_QUARANTINE_PATH" ] || set -- "$@" -H "x-morphux-git-quarantine-path: $(abs_list "$GIT_QUARANTINE_PATH")"
fi

# -q: no ~/.curlrc; the secret comes on fd 3, never on the command line (other users read argv);
# no proxy for the server's own address; no Expect: 100-continue round trip
answer=$(curl -q --silent --noproxy '*' --max-time 600 -X POST \
  -H @/dev/fd/3 -H 'content-type: text/plain; charset=utf-8' -H 'expect:' "$@" \
  --data-binary @- --write-out '\n%{http_code}' "${MORPHUX_HOOK_URL%/}/$hook" 3<<EOF
authorization: Bearer $MORPHUX_HOOK_TOKEN
EOF
)
rc=$?
if [ "$rc" -ne 0 ]; then
  say "Morphux: the push could not be checked (the Morphux server did not answer: curl exit $rc); try again later"
  exit "$refuse"
fi
status=${answer##*
}
messages=${answer%
*}
while [ "${messages%
}" != "$messages" ]; do messages=${messages%
}; done
case $status in
  200) [ -z "$messages" ] || say "$messages"; exit 0 ;;
  409) [ -z "$messages" ] || say "$messages"; exit "$refuse" ;;
  *) say "Morphux: the push could not be checked (the Morphux server answered HTTP $status); try again later"; exit "$refuse" ;;
esac
