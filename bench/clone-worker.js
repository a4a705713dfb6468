'use strict';
// Reference for the hand-off benchmark: piscina with structured clone (the buffer is copied
// into the worker and copied back).
module.exports = (buffer) => buffer;
