export * from './dropout.js';
