"""A stand-in for your model package: `my_model.sample:draw` is what the release gate samples."""
