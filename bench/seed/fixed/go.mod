module seedfixed

go 1.19
