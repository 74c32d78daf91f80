// A Hadoop minicluster for Capstan's tests: one MiniDFSCluster (one datanode, WebHDFS on, loopback,
// free ports, a given base folder) and, with --yarn, a YARN ResourceManager beside it (a MiniYARNCluster
// without node managers). It writes a client configuration folder (core-site.xml, hdfs-site.xml and,
// with --yarn, yarn-site.xml) under the base folder, prints one JSON line with the addresses once
// everything answers, and stops on stdin EOF or SIGTERM. With --yarn the JVM needs
// --add-opens=java.base/java.lang=ALL-UNNAMED (Guice's cglib).
//
// Why no node manager: in one JVM the node manager's web app (started after the ResourceManager's)
// takes over the ResourceManager's REST API (Guice's filter is static), and that API is what Capstan
// kills applications through. Without one, a submitted application is accepted and waits for a
// container that never comes: enough for its id, its state and its kill, not for running it.
// Compiled by scripts/hadoop-testenv/fetch.sh against the fetched jars.
//
// Usage: java -cp 'LAUNCHER:JARS/*' HadoopTestenv --base-dir DIR [--yarn]
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.HdfsConfiguration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

public final class HadoopTestenv {
  private HadoopTestenv() {}

  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable error) {
      // The clusters' threads would keep the JVM alive after a failed start.
      error.printStackTrace();
      System.err.println("HadoopTestenv: the minicluster did not start: " + error);
      System.exit(1);
    }
  }

  private static void run(String[] args) throws Exception {
    String baseDir = null;
    boolean yarn = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--base-dir":
          if (i + 1 >= args.length) fail("--base-dir needs a folder");
          baseDir = args[++i];
          break;
        case "--yarn":
          yarn = true;
          break;
        default:
          fail("unknown argument '" + args[i] + "'; accepted: --base-dir DIR, --yarn");
      }
    }
    if (baseDir == null) fail("--base-dir DIR is required");
    File base = new File(baseDir).getAbsoluteFile();
    long started = System.nanoTime();

    Configuration conf = new HdfsConfiguration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, new File(base, "dfs").getPath());
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.hostname", "127.0.0.1");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    // Small blocks keep tests of multi-block files fast; one replica for one datanode.
    conf.setLong("dfs.blocksize", 1024L * 1024L);
    conf.setInt("dfs.replication", 1);
    conf.setLong("dfs.namenode.fs-limits.min-block-size", 1024L);
    // Any user may write under /; the tests act as several users through user.name.
    conf.setBoolean("dfs.permissions.enabled", false);
    // Listings come in batches of 500 (default 1,000), so tests page through several with fewer files.
    conf.setInt("dfs.ls.limit", 500);

    final MiniDFSCluster dfs = new MiniDFSCluster.Builder(conf)
        .numDataNodes(1)
        .nameNodePort(0)
        .nameNodeHttpPort(0)
        .format(true)
        .build();
    final MiniYARNCluster[] yarnHolder = new MiniYARNCluster[1];
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (yarnHolder[0] != null) yarnHolder[0].stop();
      dfs.shutdown();
    }));
    dfs.waitActive();

    String defaultFs = "hdfs://127.0.0.1:" + dfs.getNameNodePort();
    InetSocketAddress http = dfs.getNameNode().getHttpAddress();
    String webhdfs = "http://127.0.0.1:" + http.getPort();

    File confDir = new File(base, "conf");
    if (!confDir.mkdirs() && !confDir.isDirectory()) fail("could not create " + confDir);
    Map<String, String> core = new LinkedHashMap<>();
    core.put("fs.defaultFS", defaultFs);
    writeSite(new File(confDir, "core-site.xml"), core);
    Map<String, String> hdfs = new LinkedHashMap<>();
    hdfs.put("dfs.replication", "1");
    hdfs.put("dfs.namenode.http-address", "127.0.0.1:" + http.getPort());
    hdfs.put("dfs.webhdfs.enabled", "true");
    writeSite(new File(confDir, "hdfs-site.xml"), hdfs);

    String resourceManager = null;
    String resourceManagerWeb = null;
    if (yarn) {
      YarnConfiguration yarnConf = new YarnConfiguration(conf);
      yarnConf.set("fs.defaultFS", defaultFs);
      yarnConf.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
      yarnConf.setBoolean(YarnConfiguration.YARN_MINICLUSTER_FIXED_PORTS, false);
      yarnConf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 64);
      // The capacity scheduler needs a queue file the jars do not carry; FIFO needs none.
      yarnConf.set(YarnConfiguration.RM_SCHEDULER,
          "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fifo.FifoScheduler");
      MiniYARNCluster cluster = new MiniYARNCluster("capstan-testenv", 1, 0, 1, 1);
      yarnHolder[0] = cluster;
      cluster.init(yarnConf);
      cluster.start();
      // The resource manager's own configuration holds the ports it bound.
      Configuration started2 = cluster.getResourceManager().getConfig();
      resourceManager = started2.get(YarnConfiguration.RM_ADDRESS).replace("localhost:", "127.0.0.1:");
      resourceManagerWeb = "http://" + started2.get(YarnConfiguration.RM_WEBAPP_ADDRESS).replace("localhost:", "127.0.0.1:");
      Map<String, String> site = new LinkedHashMap<>();
      for (String key : new String[] {
          YarnConfiguration.RM_ADDRESS, YarnConfiguration.RM_SCHEDULER_ADDRESS,
          YarnConfiguration.RM_RESOURCE_TRACKER_ADDRESS, YarnConfiguration.RM_ADMIN_ADDRESS,
          YarnConfiguration.RM_HOSTNAME}) {
        String value = started2.get(key);
        if (value != null) site.put(key, value.replace("localhost:", "127.0.0.1:"));
      }
      writeSite(new File(confDir, "yarn-site.xml"), site);
    }

    long startMs = (System.nanoTime() - started) / 1_000_000L;
    StringBuilder line = new StringBuilder("{\"ready\":true");
    line.append(",\"defaultFs\":").append(json(defaultFs));
    line.append(",\"webhdfs\":").append(json(webhdfs));
    line.append(",\"confDir\":").append(json(confDir.getPath()));
    if (resourceManager != null) line.append(",\"resourceManagerRpc\":").append(json(resourceManager));
    if (resourceManagerWeb != null) line.append(",\"resourceManagerWeb\":").append(json(resourceManagerWeb));
    line.append(",\"startMs\":").append(startMs).append('}');
    System.out.println(line);
    System.out.flush();

    // Runs until the parent closes stdin (or sends SIGTERM, which runs the shutdown hook).
    InputStream in = System.in;
    byte[] buffer = new byte[256];
    while (in.read(buffer) >= 0) {
      // input is ignored; only its end matters
    }
    System.exit(0);
  }

  private static void writeSite(File file, Map<String, String> properties) throws IOException {
    StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<configuration>\n");
    for (Map.Entry<String, String> entry : properties.entrySet()) {
      xml.append("  <property><name>").append(entry.getKey()).append("</name><value>")
          .append(entry.getValue()).append("</value></property>\n");
    }
    xml.append("</configuration>\n");
    try (OutputStream out = new FileOutputStream(file)) {
      out.write(xml.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }

  private static String json(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') out.append('\\').append(c);
      else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
      else out.append(c);
    }
    return out.append('"').toString();
  }

  private static void fail(String message) {
    System.err.println("HadoopTestenv: " + message);
    System.exit(2);
  }
}
