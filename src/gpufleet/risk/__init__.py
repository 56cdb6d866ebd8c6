"""Risk: what-ifs, stresses and Monte Carlo sweeps over a scenario, at full or fluid fidelity."""
