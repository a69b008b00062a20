"""Sample sources beyond files and arrays: third-party generators turned into SampleSets (diffusers)."""
