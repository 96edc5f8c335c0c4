import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ModelView } from '@ddnn/contracts';
import { api } from '../../lib/api';
import ModelsPage from './page';

jest.mock('../../lib/api', () => ({ api: { models: jest.fn(), datasets: jest.fn(), uploadModel: jest.fn() } }));

describe('uploading a model', () => {
  beforeEach(() => {
    (api.models as jest.Mock).mockResolvedValue([]);
    (api.datasets as jest.Mock).mockResolvedValue([]);
    (api.uploadModel as jest.Mock).mockResolvedValue({ id: 'paper-6cam', version: 'abc' } as ModelView);
  });

  it('sends the name given in the form (an archive whose manifest names none is listed by it, not by a made-up one)', async () => {
    render(<ModelsPage />);
    const archive = new File(['x'], 'paper.tar.gz');
    fireEvent.change(screen.getByLabelText(/Checkpoint archive/), { target: { files: [archive] } });
    fireEvent.change(screen.getByLabelText('Id (optional)'), { target: { value: 'paper-6cam' } });
    fireEvent.change(screen.getByLabelText('Name (optional)'), { target: { value: ' paper, six cameras ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload and register' }));
    await waitFor(() => expect(api.uploadModel).toHaveBeenCalledWith(archive, { id: 'paper-6cam', name: 'paper, six cameras' }));
    await screen.findByText('registered paper-6cam (abc)');
  });

  it("leaves the name to the archive's manifest when the form gives none", async () => {
    render(<ModelsPage />);
    const archive = new File(['x'], 'paper.tar.gz');
    fireEvent.change(screen.getByLabelText(/Checkpoint archive/), { target: { files: [archive] } });
    fireEvent.click(screen.getByRole('button', { name: 'Upload and register' }));
    await waitFor(() => expect(api.uploadModel).toHaveBeenCalledWith(archive, { id: undefined, name: undefined }));
  });
});
