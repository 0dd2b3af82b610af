/**
 * The tab icon: a tick in a rounded square, as SVG. Served from /admin/assets so browsers do not
 * ask for /favicon.ico (a 404 in every page load) and the CSP needs no data: URLs.
 */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1b1b1f"/><path d="M9 16.5l4.5 4.5L23 11" fill="none" stroke="#fff" stroke-width="3.2" stroke-linecap="round" stroke-linejoin="round"/></svg>`;
