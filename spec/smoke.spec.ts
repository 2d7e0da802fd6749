import { VERSION } from '../lib/index';
test('v', () => { expect(VERSION).toBe('0.1.0'); });
