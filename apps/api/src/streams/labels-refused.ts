import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * A labels request refused for what some of its labels say: 409, those samples are labelled otherwise already (labels
 * are final); 422, they are not samples of the stream's log. Nothing of the request was logged. `samples` names them,
 * so an in-process caller (the demo labeller) can post the rest; refusals of the request as a whole (the stream being
 * deleted, its model gone) are other errors.
 */
export class LabelsRefused extends HttpException {
  constructor(
    status: HttpStatus.CONFLICT | HttpStatus.UNPROCESSABLE_ENTITY,
    message: string,
    readonly samples: number[],
  ) {
    super(message, status);
  }
}
