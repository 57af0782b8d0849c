print("diffuse")
