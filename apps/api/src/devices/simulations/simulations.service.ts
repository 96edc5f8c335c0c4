// The simulations live in apps/api/src/simulations; this path is kept for code written against it.
export { SimulationsService } from '../../simulations/simulations.service';
