// Build the offline CZML viewer: copy CesiumJS's built files (Build/Cesium from the pinned npm
// package) and viewer.html into one folder that any static web server can serve.
//
//   npm ci && node build.mjs [OUT_DIR] [FILE.czml|FILE.kmz ...]
//
// OUT_DIR defaults to dist/. Files given after it are copied next to viewer.html, so
// `viewer.html?czml=run.czml` shows them. Nothing is fetched from the network at view time:
// no Cesium ion token, no online imagery or terrain (see src/viewer.html).
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "dist"));
const cesiumBuild = join(here, "node_modules", "cesium", "Build", "Cesium");
if (!existsSync(cesiumBuild)) {
  console.error(`missing ${cesiumBuild}: run \`npm ci\` in ${here} first`);
  process.exit(1);
}
const version = JSON.parse(readFileSync(join(here, "node_modules", "cesium", "package.json"), "utf8")).version;
mkdirSync(out, { recursive: true });
cpSync(cesiumBuild, join(out, "Cesium"), { recursive: true });
cpSync(join(here, "src", "viewer.html"), join(out, "viewer.html"));
for (const f of process.argv.slice(3)) {
  cpSync(f, join(out, basename(f)));
}
console.log(`CesiumJS ${version} viewer written to ${out} (serve it, then open viewer.html?czml=run.czml)`);
