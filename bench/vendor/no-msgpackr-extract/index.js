// msgpackr checks for a falsy extractor and uses its JavaScript decoder.
module.exports = null;
