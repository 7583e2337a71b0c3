package simd

// Width is the vector width this package was written for.
const Width = 32
