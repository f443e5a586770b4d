// Writes the world map that the dashboard draws its audience on: world-atlas's countries at 1:110m (Natural Earth,
// TopoJSON) with each country's id turned from ISO 3166-1 numeric (what world-atlas gives) into alpha-2 (what the
// node's viewers carry), from i18n-iso-countries' code table. Maven runs it after `npm ci`:
//   node world.js <output file>
// Natural Earth draws three places that ISO 3166-1 does not list: Kosovo gets the user-assigned XK that country
// databases use for it; Northern Cyprus and Somaliland keep no id (their viewers' addresses resolve to CY and SO).
"use strict";
const fs = require("fs");
const path = require("path");

const output = process.argv[2];
if (!output) {
  console.error("usage: node world.js <output file>");
  process.exit(2);
}
const atlas = require("world-atlas/countries-110m.json");
const codes = require("i18n-iso-countries/codes.json");
const alpha2ByNumeric = new Map(codes.map(([alpha2, , numeric]) => [numeric, alpha2]));
const BY_NAME = { Kosovo: "XK" };

for (const country of atlas.objects.countries.geometries) {
  const alpha2 = country.id !== undefined ? alpha2ByNumeric.get(country.id) : BY_NAME[country.properties.name];
  if (country.id !== undefined && alpha2 === undefined) {
    console.error("world.js: no alpha-2 code for ISO 3166-1 numeric " + country.id + " (" + country.properties.name + ")");
    process.exit(1);
  }
  if (alpha2 === undefined) {
    delete country.id;
  } else {
    country.id = alpha2;
  }
}
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, JSON.stringify(atlas));
