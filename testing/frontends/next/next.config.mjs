// The CMS's media is served from CMS_ORIGIN (the Laravel test app); next/image may fetch it for the
// comparison page only. The repository root is Turbopack's root, so @imgopt/images (clients/js) resolves.
import path from "node:path";
import { fileURLToPath } from "node:url";

const cms = new URL(process.env.CMS_ORIGIN ?? "http://127.0.0.1:1");

export default {
  turbopack: { root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..") },
  images: {
    remotePatterns: [{ protocol: cms.protocol.replace(":", ""), hostname: cms.hostname, port: cms.port }],
    dangerouslyAllowLocalIP: true,
  },
};
