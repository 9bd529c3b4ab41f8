// Validates a HAR file against the HAR 1.2 schema of the npm package
// har-validator (an implementation independent of scimcheck's).
const fs = require("fs");
const validate = require("har-validator");

const file = process.argv[2];
const har = JSON.parse(fs.readFileSync(file, "utf8"));
validate
  .har(har)
  .then(() => {
    const entries = har.log.entries.length;
    if (entries === 0) {
      console.error(`${file}: valid HAR 1.2, but it holds no entry`);
      process.exit(1);
    }
    console.log(`${file}: valid HAR 1.2, ${entries} entries, ${har.log.pages.length} pages`);
  })
  .catch((e) => {
    console.error(`${file}: not valid HAR 1.2:`);
    for (const error of e.errors || [e]) {
      console.error(`  ${error.dataPath || ""} ${error.message}`);
    }
    process.exit(1);
  });
