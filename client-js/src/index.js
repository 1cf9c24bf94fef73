// @tether-rt/client: the browser client of tether.
import { Tether } from './tether.js';

export { Tether };
export default Tether;
