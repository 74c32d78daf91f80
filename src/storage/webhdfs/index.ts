/** The `webhdfs` volume kind: an HDFS folder over WebHDFS REST, and the client that checks where the namenode sends data. */
export { WebHdfsStorage, MAX_FOLDER_ENTRIES, type WebHdfsStorageOptions } from "./webhdfs-storage.js";
export { WebHdfsClient, encodeHdfsPath, type HdfsFileStatus, type WebHdfsClientOptions } from "./webhdfs-client.js";
