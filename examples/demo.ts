import { VERSION } from 'dflockd-rx'; console.log(VERSION);
