#!/usr/bin/env node
console.log('dflockd-rx');
