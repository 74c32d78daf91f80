/** SSH into sandboxes: a local sandbox's own sshd, and the tunnel that carries SSH over the API's WebSocket to a sandbox's sshd. */
export { hostPublicKey, sshdConfig, sshdPath, startLocalSshd, type LocalSshd } from "./local-sshd.js";
export { connectSshd, pipeSshTunnel, type SshTunnelOptions } from "./ssh-tunnel.js";
