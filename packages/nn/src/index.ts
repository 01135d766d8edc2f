// @spine/nn — neural-network layer on @spine/tensor. Browser-safe: no Node APIs here.
export {};
