/**
 * The steps every inferd pipeline can use by name. Step packages live in src/steps/<name>/
 * and export their definitions; adding a package here makes its functions available to configs.
 */
import { ocrSteps } from '../../steps/ocr/steps.js';
import { StepRegistry } from './registry.js';

export const defaultStepRegistry: StepRegistry = new StepRegistry().registerAll(ocrSteps);
