import { render, screen } from '@testing-library/react';
import type { ProfileView } from '@ddnn/contracts';
import { api } from '../../lib/api';
import { ConnectDevice } from './connect-device';

jest.mock('../../lib/api', () => ({ api: { profiles: jest.fn(), createProfile: jest.fn() } }));

describe('connecting a device', () => {
  it.each([
    ['(0 profiles exist)', 0],
    ['(1 profile exists)', 1],
    ['(2 profiles exist)', 2],
  ])('counts the device profiles in a sentence: %s', async (said, n) => {
    (api.profiles as jest.Mock).mockResolvedValue(Array.from({ length: n }, (_, i) => ({ id: `p${i}`, name: `cameras-${i}` }) as unknown as ProfileView));
    render(<ConnectDevice />);
    expect((await screen.findByText(/profiles? exists?\)/)).textContent).toContain(said);
  });
});
