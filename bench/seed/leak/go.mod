module seedleak

go 1.19
