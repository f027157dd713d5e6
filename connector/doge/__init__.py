"""DOGE (doge-datagen 1.0.4) compatibility: placeholder until the compat layer lands."""
