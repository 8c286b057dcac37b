/** Vite's `?raw` imports: the file's text (test/config-agreement.test.ts reads wrangler.toml). */
declare module "*?raw" {
  const text: string;
  export default text;
}
