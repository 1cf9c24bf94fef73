// Entry of the script builds (dist/tether.js, dist/tether.min.js): defines
// the global Tether.
import { Tether } from './tether.js';
import { G } from './env.js';

G.Tether = Tether;
