/** `capstan sandbox ssh` and `tunnel`: SSH into a sandbox through the API's WebSocket. */
export { runSshTunnel, tunnelUrl, type SshTunnelClientOptions } from "./ssh-tunnel-client.js";
export { knownHostsPath, pinHostKey, proxyCommand, sshArgv, sshConfigBlock, sshHostName } from "./ssh-invocation.js";
