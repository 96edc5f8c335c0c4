import { act, fireEvent, render, screen } from '@testing-library/react';
import { api } from '../../lib/api';
import { DeleteRunButton } from './delete-run-button';

const push = jest.fn();
jest.mock('next/navigation', () => ({ useRouter: () => ({ push }) }));
jest.mock('../../lib/api', () => ({ api: { deleteSession: jest.fn(), deleteStream: jest.fn() } }));
const deleteSession = api.deleteSession as jest.Mock;
const deleteStream = api.deleteStream as jest.Mock;

describe('DeleteRunButton', () => {
  let confirm: jest.SpyInstance;
  beforeEach(() => {
    jest.clearAllMocks();
    confirm = jest.spyOn(window, 'confirm');
  });
  afterEach(() => confirm.mockRestore());

  const click = async () => {
    await act(async () => {
      fireEvent.click(screen.getByTestId('delete-run'));
    });
  };

  it('deletes nothing unless the operator confirms', async () => {
    confirm.mockReturnValue(false);
    render(<DeleteRunButton kind="session" id="s1" label="this session" onError={jest.fn()} />);
    await click();
    expect(confirm.mock.calls[0][0]).toContain('Delete this session');
    expect(deleteSession).not.toHaveBeenCalled();
    expect(push).not.toHaveBeenCalled();
  });

  it('deletes the run of its kind once confirmed, then goes back to the runs list', async () => {
    confirm.mockReturnValue(true);
    deleteSession.mockResolvedValue('deleted');
    deleteStream.mockResolvedValue('deleting');
    const { unmount } = render(<DeleteRunButton kind="session" id="s1" label="this session" onError={jest.fn()} />);
    await click();
    expect(deleteSession).toHaveBeenCalledWith('s1');
    expect(push).toHaveBeenCalledWith('/sessions');
    unmount();
    render(<DeleteRunButton kind="stream" id="r2" label="this stream" onError={jest.fn()} />);
    await click();
    expect(deleteStream).toHaveBeenCalledWith('r2');
    expect(deleteSession).toHaveBeenCalledTimes(1);
    // Still going (202, a long log): the list shows it as being deleted until it is gone.
    expect(push).toHaveBeenCalledTimes(2);
  });

  it('hands a refusal to the page and stays, ready to try again', async () => {
    confirm.mockReturnValue(true);
    const refused = new Error('session s1 has ended but a node is still closing it');
    deleteSession.mockRejectedValue(refused);
    const onError = jest.fn();
    render(<DeleteRunButton kind="session" id="s1" label="this session" onError={onError} />);
    await click();
    expect(onError.mock.calls).toEqual([[null], [refused]]);
    expect(push).not.toHaveBeenCalled();
    expect(screen.getByTestId('delete-run')).toHaveProperty('disabled', false);
    expect(screen.getByTestId('delete-run').textContent).toBe('Delete run');
  });
});
