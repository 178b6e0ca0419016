/**
 * The dashboard's page, script and style sheet: static files shipped in the package beside this module
 * (the build copies src/gateway/dashboard/assets to dist), read once when a gateway is built with the
 * dashboard on. Every dashboard answer carries the same security headers: a Content-Security-Policy
 * that allows this origin's script and style only (no inline script or style anywhere), nosniff, no
 * framing, no referrer, and no caching of anything.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../core/errors.js";
import { type HttpAnswer, jsonAnswer } from "../routes.js";

export type DashboardAsset = "page" | "script" | "style";

const FILES: Readonly<Record<DashboardAsset, { readonly file: string; readonly contentType: string }>> = {
  page: { file: "dashboard.html", contentType: "text/html; charset=utf-8" },
  script: { file: "dashboard.js", contentType: "text/javascript; charset=utf-8" },
  style: { file: "dashboard.css", contentType: "text/css; charset=utf-8" },
};

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

export type DashboardAssets = Readonly<Record<DashboardAsset, HttpAnswer>>;

/** Reads the three files; ConfigError naming the file when one is missing (a package built without them). */
export function loadDashboardAssets(): DashboardAssets {
  const read = (asset: DashboardAsset): HttpAnswer => {
    const { file, contentType } = FILES[asset];
    const url = new URL(`./assets/${file}`, import.meta.url);
    let body: string;
    try {
      body = readFileSync(url, "utf8");
    } catch (error) {
      throw new ConfigError(`the dashboard's ${file} is missing (${fileURLToPath(url)}): the package was built without its assets`, { cause: error });
    }
    return { status: 200, headers: { ...DASHBOARD_HEADERS, "content-type": contentType, "content-length": String(Buffer.byteLength(body)) }, body };
  };
  return { page: read("page"), script: read("script"), style: read("style") };
}

/** A JSON answer on a dashboard route, with the dashboard's headers. */
export function dashboardJson(status: number, body: unknown): HttpAnswer {
  const answer = jsonAnswer(status, body);
  return { ...answer, headers: { ...DASHBOARD_HEADERS, ...answer.headers } };
}
