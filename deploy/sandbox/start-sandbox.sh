#!/bin/sh
# Starts a Kubernetes sandbox's servers as the user `sandbox`: sshd on 2222 (keys only, host keys
# kept in the home so they survive restarts) in the background, then JupyterLab on 8888 in the
# foreground, so the pod ends, and Capstan records a crash, when JupyterLab does.
set -eu

: "${JUPYTER_TOKEN:?JUPYTER_TOKEN must be set (the sandbox backend puts it in from the sandbox Secret)}"
mkdir -p "$HOME/.ssh" "$HOME/.config/capstan/ssh"
chmod 0700 "$HOME/.ssh" "$HOME/.config/capstan/ssh"

if [ -n "${CAPSTAN_SSH_AUTHORIZED_KEYS:-}" ]; then
  printf '%s\n' "$CAPSTAN_SSH_AUTHORIZED_KEYS" > "$HOME/.ssh/authorized_keys"
  chmod 0600 "$HOME/.ssh/authorized_keys"
fi
if [ ! -f "$HOME/.config/capstan/ssh/ssh_host_ed25519_key" ]; then
  ssh-keygen -q -t ed25519 -N '' -f "$HOME/.config/capstan/ssh/ssh_host_ed25519_key"
fi
/usr/sbin/sshd -f /etc/capstan-sandbox/sshd_config -h "$HOME/.config/capstan/ssh/ssh_host_ed25519_key" -E "$HOME/.config/capstan/ssh/sshd.log"

exec jupyter lab --config=/etc/capstan-sandbox/jupyter_server_config.py
